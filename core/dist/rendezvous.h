// The TCP rendezvous of the built-in launch (core/dist/launch.h): how processes started with
// RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (and no MPI) find each other. Rank 0 listens on
// MASTER_PORT (every interface); every other rank connects to MASTER_ADDR:MASTER_PORT, retrying
// until the timeout, and introduces itself (magic, rank, world size, a key that every rank must
// share: the payload size of a broadcast, or what the connections are for); rank 0 checks that
// every rank came exactly once with matching sizes and keys. The connections form a star around
// rank 0: rendezvous_broadcast sends the NCCL unique id over it and closes it; the tcp backend
// (core/dist/tcp_communicator.cpp) keeps it for its collectives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dist/tcp_socket.h"
#include "core/export.h"

namespace lowbit::dist {

struct RendezvousAddress {
  std::string host = "127.0.0.1";  // MASTER_ADDR: rank 0's host name or address
  int port = 29500;                // MASTER_PORT
  double timeout_s = 300;          // how long to wait for the other ranks
};

// The star: on rank 0, peers[r] is the connection to rank r (r >= 1; peers[0] is unused); on
// every other rank, peers[0] is the connection to rank 0 and the rest are unused.
struct Star {
  int rank = 0, size = 1;
  std::vector<Socket> peers;
};

// Collective over ranks 0..size-1: connects them. Throws lowbit::Error naming the address on a
// timeout, a refused or broken connection, or a rank that announces another world size or key or
// a duplicate rank.
LOWBIT_API Star rendezvous_connect(const RendezvousAddress& at, int rank, int size, uint64_t key);

// Collective over ranks 0..size-1: afterwards every rank's `bytes` bytes at `data` equal rank
// 0's (the key is the payload size). Throws as rendezvous_connect.
LOWBIT_API void rendezvous_broadcast(const RendezvousAddress& at, int rank, int size, void* data, int64_t bytes);

}  // namespace lowbit::dist
