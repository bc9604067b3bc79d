// TCP rendezvous: rank 0 accepts and checks the other ranks' introductions (core/dist/tcp_socket.h
// does the socket work).
#include "core/dist/rendezvous.h"

#include "core/error.h"

namespace lowbit::dist {

namespace {

constexpr uint32_t kMagic = 0x6c62646eu;  // "lbdn"

struct Hello {  // what a rank sends rank 0 (host byte order: one machine architecture per job)
  uint32_t magic = kMagic;
  uint32_t rank = 0;
  uint32_t size = 0;
  uint64_t key = 0;
};

std::string where(const RendezvousAddress& at) { return at.host + ":" + std::to_string(at.port); }

// Rank 0: accepts size - 1 ranks and files each under its rank.
void serve(const RendezvousAddress& at, Star& star, uint64_t key, SocketClock::time_point deadline) {
  const Socket listener = listen_on(at.port, star.size, "rendezvous: rank 0");
  for (int arrived = 1; arrived < star.size;) {
    Socket peer = accept_until(listener, deadline);
    LOWBIT_CHECK(peer.valid(), "rendezvous: timed out on port ", at.port, " after ", arrived, " of ", star.size,
                 " ranks had arrived");
    Hello h;
    read_all(peer, &h, sizeof h, deadline, "rendezvous: a rank connecting to port " + std::to_string(at.port));
    LOWBIT_CHECK(h.magic == kMagic, "rendezvous: port ", at.port, ": a connection that is not a lowbit rank");
    LOWBIT_CHECK(h.size == static_cast<uint32_t>(star.size) && h.key == key, "rendezvous: rank ", h.rank,
                 " announces world size ", h.size, " and key ", h.key, ", rank 0 has ", star.size, " and ", key);
    LOWBIT_CHECK(h.rank >= 1 && h.rank < static_cast<uint32_t>(star.size) && !star.peers[h.rank].valid(),
                 "rendezvous: rank ", h.rank, " is out of range or arrived twice (world size ", star.size, ")");
    set_no_delay(peer);
    star.peers[h.rank] = std::move(peer);
    ++arrived;
  }
}

// Ranks 1..: connects (retrying while rank 0 is not listening yet) and introduces itself.
void join(const RendezvousAddress& at, Star& star, uint64_t key, SocketClock::time_point deadline) {
  const std::string what = "rendezvous: rank 0 at " + where(at);
  Socket s = connect_until(at.host, at.port, deadline, what);
  LOWBIT_CHECK(s.valid(), "rendezvous: rank ", star.rank, " could not reach rank 0 at ", where(at),
               " before the timeout (", at.timeout_s, " s)");
  set_no_delay(s);
  Hello h;
  h.rank = static_cast<uint32_t>(star.rank);
  h.size = static_cast<uint32_t>(star.size);
  h.key = key;
  write_all(s, &h, sizeof h, what);
  star.peers[0] = std::move(s);
}

SocketClock::time_point deadline_after(double seconds) {
  return SocketClock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

Star rendezvous_connect(const RendezvousAddress& at, int rank, int size, uint64_t key) {
  LOWBIT_CHECK(size >= 1 && rank >= 0 && rank < size, "rendezvous: rank ", rank, " of world size ", size);
  LOWBIT_CHECK(at.port > 0 && at.port < 65536, "rendezvous: MASTER_PORT must be in 1..65535, got ", at.port);
  Star star;
  star.rank = rank;
  star.size = size;
  star.peers.resize(static_cast<size_t>(size));
  if (size == 1) return star;
  const SocketClock::time_point deadline = deadline_after(at.timeout_s);
  if (rank == 0) serve(at, star, key, deadline);
  else join(at, star, key, deadline);
  return star;
}

void rendezvous_broadcast(const RendezvousAddress& at, int rank, int size, void* data, int64_t bytes) {
  LOWBIT_CHECK(bytes >= 0, "rendezvous: negative payload size ", bytes);
  const Star star = rendezvous_connect(at, rank, size, static_cast<uint64_t>(bytes));
  if (size == 1) return;
  if (rank == 0) {
    for (int r = 1; r < size; ++r)
      write_all(star.peers[static_cast<size_t>(r)], data, static_cast<size_t>(bytes),
                "rendezvous: rank " + std::to_string(r));
  } else {
    read_all(star.peers[0], data, static_cast<size_t>(bytes), deadline_after(at.timeout_s),
             "rendezvous: rank 0 at " + where(at));
  }
}

}  // namespace lowbit::dist
