// Plumbing shared by the quantizer CUDA kernels (kernels/cuda/quant_*.cu only; the per-element math
// stays in kernels/quant/*_math.h):
//   host:   launches on the current stream (kernels/cuda/context.h) with a launch check, the grid of
//           a grid-stride loop (launch.cuh's stride_grid, in float4 groups on the vector path), async
//           zeroing of accumulators, and the one-thread finalize kernel;
//   device: grid-stride elementwise loops driven by a functor (float4 loads/stores when the caller
//           says every pointer is 16-byte aligned, then the scalar tail), block reductions of
//           per-thread double partial sums (warp shuffle, then one warp over the per-warp partials in
//           shared memory) ending in one atomic per block per accumulator, and the block max of
//           non-negative floats with its bit-pattern atomicMax.
// Every block has kThreads threads (the reductions size their shared memory for it).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"

namespace lowbit::cuda::qlaunch {

inline constexpr int kThreads = 256;  // threads per block (a multiple of 32)

// ---------------------------------------------------------------- host side

// Blocks for a grid-stride loop over n elements (float4 groups when vec).
inline unsigned grid_for(int64_t n, bool vec) { return stride_grid(vec ? (n + 3) / 4 : n, kThreads); }

// kernel<<<grid, kThreads>>>(args...) on the current stream, then the launch check.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), unsigned grid, Args&&... args) {
  kernel<<<grid, kThreads, 0, current_stream()>>>(std::forward<Args>(args)...);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// Zeroes `bytes` of device memory, ordered on the current stream.
inline void zero_async(void* p, size_t bytes) { LOWBIT_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, current_stream())); }

// ---------------------------------------------------------------- grid-stride elementwise loops

__device__ __forceinline__ int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// f(x[i]) for every i < n; float4 loads when vec (x 16-byte aligned), then the scalar tail.
template <class F>
__device__ __forceinline__ void visit1(const float* __restrict__ x, int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 a = reinterpret_cast<const float4*>(x)[i];
    f(a.x);
    f(a.y);
    f(a.z);
    f(a.w);
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) f(x[i]);
}

// f(a[i], b[i]) for every i < n (vec: a and b 16-byte aligned).
template <class F>
__device__ __forceinline__ void visit2(const float* __restrict__ a, const float* __restrict__ b, int64_t n, bool vec,
                                       F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 u = reinterpret_cast<const float4*>(a)[i];
    const float4 v = reinterpret_cast<const float4*>(b)[i];
    f(u.x, v.x);
    f(u.y, v.y);
    f(u.z, v.z);
    f(u.w, v.w);
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) f(a[i], b[i]);
}

// y[i] = f(x[i]) (vec: x and y 16-byte aligned). The four lanes of a float4 are applied in order
// x, y, z, w, so a functor that also accumulates sees the elements in index order.
template <class F>
__device__ __forceinline__ void map1(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 a = reinterpret_cast<const float4*>(x)[i];
    float4 o;
    o.x = f(a.x);
    o.y = f(a.y);
    o.z = f(a.z);
    o.w = f(a.w);
    reinterpret_cast<float4*>(y)[i] = o;
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) y[i] = f(x[i]);
}

// out[i] = f(a[i], b[i]) (vec: a, b and out 16-byte aligned); lanes in order as map1.
template <class F>
__device__ __forceinline__ void map2(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                     int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 u = reinterpret_cast<const float4*>(a)[i];
    const float4 v = reinterpret_cast<const float4*>(b)[i];
    float4 o;
    o.x = f(u.x, v.x);
    o.y = f(u.y, v.y);
    o.z = f(u.z, v.z);
    o.w = f(u.w, v.w);
    reinterpret_cast<float4*>(out)[i] = o;
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) out[i] = f(a[i], b[i]);
}

// Kernels for functors that need nothing from device memory: y = op(x), out = op(a, b).
template <class Op>
__global__ void map1_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, Op op) {
  map1(x, y, n, vec, op);
}
template <class Op>
__global__ void map2_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                            int64_t n, bool vec, Op op) {
  map2(a, b, out, n, vec, op);
}

template <class Op>
void launch_map1(const float* x, float* y, int64_t n, Op op) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  launch(map1_kernel<Op>, grid_for(n, vec), x, y, n, vec, op);
}

template <class Op>
void launch_map2(const float* a, const float* b, float* out, int64_t n, Op op) {
  if (n == 0) return;
  const bool vec = aligned16(a, b, out);
  launch(map2_kernel<Op>, grid_for(n, vec), a, b, out, n, vec, op);
}

// ---------------------------------------------------------------- block reductions

__device__ __forceinline__ double warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
  return v;
}

// Replaces v[k] (k < K) by its sum over the block; the sums are valid in thread 0. Every thread of
// the block must call it; it ends with a barrier, so it may be called again in the same kernel.
template <int K>
__device__ __forceinline__ void block_sum(double (&v)[K]) {
  __shared__ double partial[K][kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    v[k] = warp_sum(v[k]);
    if (lane == 0) partial[k][warp] = v[k];
  }
  __syncthreads();
  if (warp == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = warp_sum(lane < static_cast<int>(blockDim.x >> 5) ? partial[k][lane] : 0.0);
  }
  __syncthreads();
}

// The block's sum of v, valid in thread 0 (same contract as above).
__device__ __forceinline__ double block_sum(double v) {
  double a[1] = {v};
  block_sum<1>(a);
  return a[0];
}

// Adds the block's sum of v[k] to acc[k] (k < K): one atomicAdd per accumulator per block.
template <int K>
__device__ __forceinline__ void block_sum_atomic(double (&v)[K], double* acc) {
  block_sum<K>(v);
  if (threadIdx.x == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) atomicAdd(acc + k, v[k]);
  }
}

// The block's max of non-negative v, valid in thread 0 (same contract as block_sum).
__device__ __forceinline__ float block_max_nonneg(float v) {
  __shared__ float partial[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_max(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) v = warp_max(lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : 0.f);
  __syncthreads();
  return v;
}

// *p = max(*p, v) for non-negative floats (they order like their bit patterns); *p starts at 0.
__device__ __forceinline__ void atomic_max_nonneg(float* p, float v) {
  atomicMax(reinterpret_cast<unsigned int*>(p), __float_as_uint(v));
}

// ---------------------------------------------------------------- one-thread finalize

// Runs f() on one device thread: turns the double accumulators into the f32 results.
template <class F>
__global__ void one_thread_kernel(F f) {
  f();
}

template <class F>
void launch_one_thread(F f) {
  one_thread_kernel<F><<<1, 1, 0, current_stream()>>>(f);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// Finalize functor: dst[k] = float(scale · acc[k]) for k < K.
template <int K>
struct StoreSums {
  const double* acc;
  float* dst[K];
  double scale = 1.0;
  __device__ void operator()() const {
#pragma unroll
    for (int k = 0; k < K; ++k) *dst[k] = static_cast<float>(scale * acc[k]);
  }
};

}  // namespace lowbit::cuda::qlaunch
