// TCP rendezvous: POSIX sockets, blocking reads and writes with poll() for the waits that have
// a deadline (accepting, connecting).
#include "core/dist/rendezvous.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/error.h"

namespace lowbit::dist {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kMagic = 0x6c62646eu;  // "lbdn"

struct Hello {  // what a rank sends rank 0 (host byte order: one machine architecture per job)
  uint32_t magic = kMagic;
  uint32_t rank = 0;
  uint32_t size = 0;
  uint64_t bytes = 0;
};

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string where(const RendezvousAddress& at) { return at.host + ":" + std::to_string(at.port); }

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(std::min<int64_t>(left, 1 << 30)) : 0;
}

void write_all(int fd, const void* data, size_t n, const std::string& what) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    LOWBIT_CHECK(w > 0, "rendezvous: sending to ", what, " failed: ", std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void read_all(int fd, void* data, size_t n, Clock::time_point deadline, const std::string& what) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, ms_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    LOWBIT_CHECK(ready > 0, "rendezvous: timed out waiting for data from ", what);
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    LOWBIT_CHECK(r > 0, "rendezvous: the connection to ", what, " closed early",
                 r < 0 ? std::string(": ") + std::strerror(errno) : std::string());
    p += r;
    n -= static_cast<size_t>(r);
  }
}

// Rank 0: accepts size - 1 ranks, then sends each the payload.
void serve(const RendezvousAddress& at, int size, const void* data, int64_t bytes, Clock::time_point deadline) {
  Socket listener(::socket(AF_INET6, SOCK_STREAM, 0));
  bool v6 = listener.fd() >= 0;
  if (!v6) listener = Socket(::socket(AF_INET, SOCK_STREAM, 0));
  LOWBIT_CHECK(listener.fd() >= 0, "rendezvous: socket() failed: ", std::strerror(errno));
  const int on = 1, off = 0;
  ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  int rc = 0;
  if (v6) {
    ::setsockopt(listener.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);  // IPv4 clients too
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(at.port));
    rc = ::bind(listener.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(at.port));
    rc = ::bind(listener.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  LOWBIT_CHECK(rc == 0, "rendezvous: rank 0 cannot listen on port ", at.port, ": ", std::strerror(errno),
               " (is MASTER_PORT in use?)");
  LOWBIT_CHECK(::listen(listener.fd(), size) == 0, "rendezvous: listen() failed: ", std::strerror(errno));

  std::vector<Socket> peers;
  std::vector<bool> seen(static_cast<size_t>(size), false);
  while (static_cast<int>(peers.size()) < size - 1) {
    pollfd pfd{listener.fd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, ms_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    LOWBIT_CHECK(ready > 0, "rendezvous: timed out on port ", at.port, " after ", peers.size() + 1, " of ", size,
                 " ranks had arrived");
    Socket peer(::accept(listener.fd(), nullptr, nullptr));
    if (peer.fd() < 0) continue;
    Hello h;
    read_all(peer.fd(), &h, sizeof h, deadline, "a rank");
    LOWBIT_CHECK(h.magic == kMagic, "rendezvous: port ", at.port, ": a connection that is not a lowbit rank");
    LOWBIT_CHECK(h.size == static_cast<uint32_t>(size) && h.bytes == static_cast<uint64_t>(bytes),
                 "rendezvous: rank ", h.rank, " announces world size ", h.size, " and ", h.bytes,
                 " bytes, rank 0 has ", size, " and ", bytes);
    LOWBIT_CHECK(h.rank >= 1 && h.rank < static_cast<uint32_t>(size) && !seen[h.rank], "rendezvous: rank ", h.rank,
                 " is out of range or arrived twice (world size ", size, ")");
    seen[h.rank] = true;
    peers.push_back(std::move(peer));
  }
  for (Socket& p : peers) write_all(p.fd(), data, static_cast<size_t>(bytes), "a rank");
}

// Ranks 1..: connects (retrying while rank 0 is not listening yet) and receives the payload.
void join(const RendezvousAddress& at, int rank, int size, void* data, int64_t bytes, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(at.port);
  const int gai = ::getaddrinfo(at.host.c_str(), port.c_str(), &hints, &found);
  LOWBIT_CHECK(gai == 0, "rendezvous: cannot resolve MASTER_ADDR '", at.host, "': ", ::gai_strerror(gai));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  Socket s;
  while (true) {
    for (addrinfo* a = list.get(); a != nullptr && s.fd() < 0; a = a->ai_next) {
      Socket c(::socket(a->ai_family, a->ai_socktype, a->ai_protocol));
      if (c.fd() >= 0 && ::connect(c.fd(), a->ai_addr, a->ai_addrlen) == 0) s = std::move(c);
    }
    if (s.fd() >= 0) break;
    LOWBIT_CHECK(Clock::now() < deadline, "rendezvous: rank ", rank, " could not reach rank 0 at ", where(at),
                 " before the timeout (", at.timeout_s, " s)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int on = 1;
  ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  Hello h;
  h.rank = static_cast<uint32_t>(rank);
  h.size = static_cast<uint32_t>(size);
  h.bytes = static_cast<uint64_t>(bytes);
  write_all(s.fd(), &h, sizeof h, "rank 0 at " + where(at));
  read_all(s.fd(), data, static_cast<size_t>(bytes), deadline, "rank 0 at " + where(at));
}

}  // namespace

void rendezvous_broadcast(const RendezvousAddress& at, int rank, int size, void* data, int64_t bytes) {
  LOWBIT_CHECK(size >= 1 && rank >= 0 && rank < size, "rendezvous: rank ", rank, " of world size ", size);
  LOWBIT_CHECK(at.port > 0 && at.port < 65536, "rendezvous: MASTER_PORT must be in 1..65535, got ", at.port);
  LOWBIT_CHECK(bytes >= 0, "rendezvous: negative payload size ", bytes);
  if (size == 1) return;
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(at.timeout_s * 1000));
  if (rank == 0) serve(at, size, data, bytes, deadline);
  else join(at, rank, size, data, bytes, deadline);
}

}  // namespace lowbit::dist
