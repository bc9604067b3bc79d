// Launch-shape helpers shared by the elementwise, reduction and quantizer kernels (kernels/cuda/*.cu
// only): the SM count of the current device, grid sizes for grid-stride loops that fill it (a fixed
// blocks-per-SM cap, or exactly the blocks one kernel can keep resident), and the 16-byte alignment
// test of the float4 paths.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "kernels/cuda/check.h"

namespace lowbit::cuda {

// Multiprocessors of the current device (queried once per device; no synchronization).
inline int sm_count() {
  static int counts[64] = {};
  int dev = 0;
  LOWBIT_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev < 0 || dev >= 64) dev = 0;
  if (counts[dev] == 0) {
    int n = 0;
    LOWBIT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    counts[dev] = n > 0 ? n : 1;
  }
  return counts[dev];
}

// Blocks of `block` threads for a grid-stride loop over `work` items: one item per thread up to
// `per_sm` resident blocks per SM (full occupancy at 256 threads: 8), then more items per thread.
inline unsigned stride_grid(int64_t work, int block = 256, int per_sm = 8) {
  int64_t want = (work + block - 1) / block;
  int64_t cap = static_cast<int64_t>(sm_count()) * per_sm;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(want, cap)));
}

// Blocks of `block` threads that `kernel` keeps resident on one SM of the current device (its
// registers and shared memory decide), queried once per (device, kernel); no synchronization.
inline int resident_blocks_per_sm(const void* kernel, int block) {
  static std::mutex mu;
  static std::map<std::pair<int, const void*>, int> cache;
  int dev = 0;
  LOWBIT_CUDA_CHECK(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find({dev, kernel});
  if (it != cache.end()) return it->second;
  int blocks = 0;
  LOWBIT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block, 0));
  blocks = std::max(blocks, 1);
  cache.emplace(std::make_pair(dev, kernel), blocks);
  return blocks;
}

// Blocks for a grid-stride loop of `kernel` over `work` items: one item per thread up to exactly
// one full wave of resident blocks, then more items per thread. A grid of several partial waves
// (e.g. 8 blocks per SM of a kernel that fits 6) would run its last wave at low occupancy.
template <class Kernel>
unsigned resident_grid(Kernel kernel, int64_t work, int block = 256) {
  const int64_t want = (work + block - 1) / block;
  const int64_t cap =
      static_cast<int64_t>(sm_count()) * resident_blocks_per_sm(reinterpret_cast<const void*>(kernel), block);
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(want, cap)));
}

// True when every given pointer is 16-byte aligned (unused slots: nullptr), so float4 loads and
// stores may be used on all of them.
inline bool aligned16(const void* a, const void* b = nullptr, const void* c = nullptr) {
  const uintptr_t bits = reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) | reinterpret_cast<uintptr_t>(c);
  return (bits & 15u) == 0;
}

}  // namespace lowbit::cuda
