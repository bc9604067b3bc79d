// Data-parallel sharding of an epoch's batches (the loaders' `shard` option). The batch size
// stays the GLOBAL one: global batch b is positions [b·B, min((b+1)·B, n)) of the epoch's order,
// which every rank computes alike (same seed, same epoch), and rank r of `world` takes positions
// b·B + r, b·B + r + world, ... of it: every world-th example of the shuffled order. With B
// divisible by world each rank gets B / world examples; the ranks' shares of a batch together are
// exactly the batch one process would get, so N ranks step through the epoch's batches together
// (the same count of batches everywhere) and augmentation, a function of the example's index in
// the dataset, is the same whichever rank draws it. A share can be empty (a last batch with
// fewer examples than ranks); the loaders pass over empty shares.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"

namespace lowbit::data {

struct Shard {
  int64_t rank = 0;   // this process
  int64_t world = 1;  // processes (1: no sharding)
};

inline void check_shard(const Shard& s, const char* who) {
  LOWBIT_CHECK(s.world >= 1 && s.rank >= 0 && s.rank < s.world, who, ": shard rank ", s.rank, " of ", s.world,
               " is not a rank of the world");
}

// Positions (in the epoch's order) of the shard's share of the global batch that starts at
// position `start` and holds `count` examples.
inline std::vector<int64_t> shard_positions(int64_t start, int64_t count, const Shard& s) {
  std::vector<int64_t> p;
  p.reserve(static_cast<size_t>(count / s.world + 1));
  for (int64_t k = s.rank; k < count; k += s.world) p.push_back(start + k);
  return p;
}

}  // namespace lowbit::data
