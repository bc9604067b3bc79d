// Device helpers shared by the fused quantizer kernels: the launch shape of a grid-stride loop
// and the block reduction of per-thread double partial sums (warp shuffle, then one warp over the
// per-warp partials in shared memory) ending in ONE atomicAdd per block per accumulator.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace lowbit::cuda::quant {

inline constexpr int kThreads = 256;  // threads per block (a multiple of 32)

// Blocks for a grid-stride loop over `work` items (float4 groups or scalars): enough to fill an
// H100 several times over, capped so the per-block atomics stay few.
inline unsigned grid_for(int64_t work) {
  int64_t blocks = (work + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > 2048) blocks = 2048;
  return static_cast<unsigned>(blocks);
}

// True when every pointer is 16-byte aligned, so the float4 path may be used.
inline bool aligned16(const void* a, const void* b = nullptr, const void* c = nullptr) {
  auto ok = [](const void* p) { return p == nullptr || (reinterpret_cast<uintptr_t>(p) & 15u) == 0; };
  return ok(a) && ok(b) && ok(c);
}

__device__ __forceinline__ double warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// Adds the block's sum of v[k] (k < K) to acc[k]: one atomicAdd per accumulator per block.
// Every thread of the block must call it (it synchronizes).
template <int K>
__device__ __forceinline__ void block_sum_atomic(double (&v)[K], double* acc) {
  __shared__ double partial[K][kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    double w = warp_sum(v[k]);
    if (lane == 0) partial[k][warp] = w;
  }
  __syncthreads();
  if (warp == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      double w = lane < static_cast<int>(blockDim.x >> 5) ? partial[k][lane] : 0.0;
      w = warp_sum(w);
      if (lane == 0) atomicAdd(acc + k, w);
    }
  }
}

}  // namespace lowbit::cuda::quant
