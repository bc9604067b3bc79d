// The TCP rendezvous of the built-in launch (core/dist/launch.h): how processes started with
// RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (and no MPI) exchange the NCCL unique id. Rank 0
// listens on MASTER_PORT (every interface); every other rank connects to MASTER_ADDR:MASTER_PORT,
// retrying until the timeout, and introduces itself (magic, rank, world size, payload size); rank
// 0 checks that every rank came exactly once with matching sizes and sends each the payload.
#pragma once

#include <cstdint>
#include <string>

#include "core/export.h"

namespace lowbit::dist {

struct RendezvousAddress {
  std::string host = "127.0.0.1";  // MASTER_ADDR: rank 0's host name or address
  int port = 29500;                // MASTER_PORT
  double timeout_s = 300;          // how long to wait for the other ranks
};

// Collective over ranks 0..size-1: afterwards every rank's `bytes` bytes at `data` equal rank
// 0's. Throws lowbit::Error naming the address on a timeout, a refused or broken connection, or
// a rank that announces another world size, payload size or a duplicate rank.
LOWBIT_API void rendezvous_broadcast(const RendezvousAddress& at, int rank, int size, void* data, int64_t bytes);

}  // namespace lowbit::dist
