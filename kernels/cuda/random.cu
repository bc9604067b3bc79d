// CUDA random fills (kernels/cuda/random.h). One thread per Philox block of four elements: one
// philox4x32_10 call (10 rounds, ~60 integer ops) gives four outputs, written as one float4 /
// int4 store when the row of four is whole and 16-byte aligned.
//
// Napkin math: writes 4 B per element (the floor: ~1.2 ms per 1e9 elements at 3.3 TB/s on H100);
// ~15 integer ops per element for Philox, plus log/sqrt/sin/cos per pair for normal — uniform and
// randint stay memory-bound, normal is close to the compute/memory balance point.
#include "kernels/cuda/random.h"

#include <cuda_runtime.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/philox.h"

namespace lowbit::cuda {

namespace {

constexpr unsigned kThreads = 256;

// Calls put(k, w) -> value for elements 4b + k of each block b, and stores them.
template <typename T, typename Put>
__device__ __forceinline__ void for_each_block(T* dst, int64_t n, uint64_t seed, uint64_t stream, Put put) {
  const int64_t blocks = (n + 3) / 4;
  const bool vec = (reinterpret_cast<uintptr_t>(dst) & 15u) == 0;
  for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < blocks; b += int64_t{gridDim.x} * blockDim.x) {
    const philox::U4 w = philox::block(seed, stream, static_cast<uint64_t>(b));
    const int64_t i0 = b * 4;
    if (vec && i0 + 4 <= n) {
      T v[4] = {put(0u, w), put(1u, w), put(2u, w), put(3u, w)};
      *reinterpret_cast<uint4*>(dst + i0) = *reinterpret_cast<const uint4*>(v);
    } else {
      for (unsigned k = 0; k < 4 && i0 + k < n; ++k) dst[i0 + k] = put(k, w);
    }
  }
}

__global__ void uniform_kernel(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  for_each_block(dst, n, seed, stream, [](unsigned k, const philox::U4& w) { return philox::to_uniform(w.x[k]); });
}

__global__ void normal_kernel(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  for_each_block(dst, n, seed, stream, [](unsigned k, const philox::U4& w) { return philox::normal_from_block(w, k); });
}

__global__ void randint_kernel(int32_t* dst, int64_t n, uint64_t seed, uint64_t stream, int64_t low, int64_t high) {
  for_each_block(dst, n, seed, stream, [low, high](unsigned k, const philox::U4& w) {
    return static_cast<int32_t>(philox::randint_from_bits(w.x[k], low, high));
  });
}

__global__ void dropout_kernel(float* dst, int64_t n, uint64_t seed, uint64_t stream, float p, float scale) {
  // bernoulli(i, p) = uniform(i) < p: element dropped -> 0, kept -> scale (cpu::fill_dropout_mask).
  for_each_block(dst, n, seed, stream,
                 [p, scale](unsigned k, const philox::U4& w) { return philox::to_uniform(w.x[k]) < p ? 0.f : scale; });
}

unsigned grid_blocks(int64_t n) { return grid_for((n + 3) / 4, kThreads); }

}  // namespace

void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  if (n <= 0) return;
  uniform_kernel<<<grid_blocks(n), kThreads, 0, current_stream()>>>(dst, n, seed, stream);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void fill_normal(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  if (n <= 0) return;
  normal_kernel<<<grid_blocks(n), kThreads, 0, current_stream()>>>(dst, n, seed, stream);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void fill_randint(int32_t* dst, int64_t n, uint64_t seed, uint64_t stream, int64_t low, int64_t high) {
  if (n <= 0) return;
  randint_kernel<<<grid_blocks(n), kThreads, 0, current_stream()>>>(dst, n, seed, stream, low, high);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void fill_dropout_mask(float* dst, int64_t n, uint64_t seed, uint64_t stream, float p, float scale) {
  if (n <= 0) return;
  dropout_kernel<<<grid_blocks(n), kThreads, 0, current_stream()>>>(dst, n, seed, stream, p, scale);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
