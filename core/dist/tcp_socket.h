// TCP plumbing of the built-in launch (core/dist/rendezvous.h, core/dist/tcp_communicator.cpp):
// an owning socket, whole-buffer reads and writes, a listener on every interface and a connect
// that retries until a deadline. Errors are lowbit::Error starting with `what` (who is talking to
// whom, e.g. "rendezvous: rank 0 at host:port").
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

namespace lowbit::dist {

using SocketClock = std::chrono::steady_clock;
// "No deadline": wait as long as it takes (the peer's exit still ends the wait).
inline constexpr SocketClock::time_point kNoDeadline = SocketClock::time_point::max();

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Writes all n bytes (no SIGPIPE: a closed peer is an error).
void write_all(const Socket& s, const void* data, size_t n, const std::string& what);
// Reads exactly n bytes; throws on a timeout, or when the peer closes the connection first.
void read_all(const Socket& s, void* data, size_t n, SocketClock::time_point deadline, const std::string& what);

// A socket listening on `port` of every interface (IPv6 and IPv4 where the host has both), with
// room for `backlog` waiting connections.
Socket listen_on(int port, int backlog, const std::string& what);
// The next connection to `listener`, or an invalid socket when the deadline passes first.
Socket accept_until(const Socket& listener, SocketClock::time_point deadline);
// A connection to host:port, retried every 100 ms while nobody listens there; an invalid socket
// once the deadline has passed. Throws when the host name cannot be resolved.
Socket connect_until(const std::string& host, int port, SocketClock::time_point deadline, const std::string& what);

// TCP_NODELAY: small messages (collectives of a few values) go out at once.
void set_no_delay(const Socket& s);

}  // namespace lowbit::dist
