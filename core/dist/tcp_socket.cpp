// TCP plumbing: POSIX sockets, blocking reads and writes, poll() for the waits with a deadline.
#include "core/dist/tcp_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>

#include "core/error.h"

namespace lowbit::dist {

namespace {

// poll()'s timeout for a deadline: -1 without one.
int ms_left(SocketClock::time_point deadline) {
  if (deadline == kNoDeadline) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SocketClock::now()).count();
  return left > 0 ? static_cast<int>(std::min<int64_t>(left, 1 << 30)) : 0;
}

// Waits until fd is readable; false on a timeout.
bool wait_readable(int fd, SocketClock::time_point deadline) {
  while (true) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, ms_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    return ready > 0;
  }
}

}  // namespace

void write_all(const Socket& s, const void* data, size_t n, const std::string& what) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(s.fd(), p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    // The peer closed its end (its process stopped): the same error the reading side reports.
    LOWBIT_CHECK(!(w < 0 && (errno == EPIPE || errno == ECONNRESET)), what,
                 ": the connection closed early (that process stopped)");
    LOWBIT_CHECK(w > 0, what, ": sending failed: ", std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void read_all(const Socket& s, void* data, size_t n, SocketClock::time_point deadline, const std::string& what) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    LOWBIT_CHECK(wait_readable(s.fd(), deadline), what, ": timed out waiting for data");
    const ssize_t r = ::recv(s.fd(), p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    const bool peer_gone = r == 0 || (r < 0 && errno == ECONNRESET);
    LOWBIT_CHECK(r > 0, what, ": the connection closed early",
                 peer_gone ? std::string(" (that process stopped)") : std::string(": ") + std::strerror(errno));
    p += r;
    n -= static_cast<size_t>(r);
  }
}

Socket listen_on(int port, int backlog, const std::string& what) {
  Socket listener(::socket(AF_INET6, SOCK_STREAM, 0));
  const bool v6 = listener.valid();
  if (!v6) listener = Socket(::socket(AF_INET, SOCK_STREAM, 0));
  LOWBIT_CHECK(listener.valid(), what, ": socket() failed: ", std::strerror(errno));
  const int on = 1, off = 0;
  ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int rc = 0;
  if (v6) {
    ::setsockopt(listener.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);  // IPv4 clients too
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(listener.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(listener.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  LOWBIT_CHECK(rc == 0, what, ": cannot listen on port ", port, ": ", std::strerror(errno),
               " (is MASTER_PORT in use?)");
  LOWBIT_CHECK(::listen(listener.fd(), std::max(backlog, 1)) == 0, what, ": listen() failed: ", std::strerror(errno));
  return listener;
}

Socket accept_until(const Socket& listener, SocketClock::time_point deadline) {
  while (wait_readable(listener.fd(), deadline)) {
    Socket peer(::accept(listener.fd(), nullptr, nullptr));
    if (peer.valid()) return peer;
  }
  return Socket();
}

Socket connect_until(const std::string& host, int port, SocketClock::time_point deadline, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  LOWBIT_CHECK(gai == 0, what, ": cannot resolve MASTER_ADDR '", host, "': ", ::gai_strerror(gai));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  while (true) {
    for (addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
      Socket c(::socket(a->ai_family, a->ai_socktype, a->ai_protocol));
      if (c.valid() && ::connect(c.fd(), a->ai_addr, a->ai_addrlen) == 0) return c;
    }
    if (SocketClock::now() >= deadline) return Socket();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void set_no_delay(const Socket& s) {
  const int on = 1;
  ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

}  // namespace lowbit::dist
