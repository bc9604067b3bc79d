// Launch-shape helpers shared by the elementwise, reduction and quantizer kernels (kernels/cuda/*.cu
// only): the SM count of the current device, a grid size for grid-stride loops that fills it, and
// the 16-byte alignment test of the float4 paths.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

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

// True when every given pointer is 16-byte aligned (unused slots: nullptr), so float4 loads and
// stores may be used on all of them.
inline bool aligned16(const void* a, const void* b = nullptr, const void* c = nullptr) {
  const uintptr_t bits = reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) | reinterpret_cast<uintptr_t>(c);
  return (bits & 15u) == 0;
}

}  // namespace lowbit::cuda
