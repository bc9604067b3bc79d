// Plumbing shared by the quantizer CUDA kernels (kernels/cuda/quant_*.cu only; the per-element math
// stays in kernels/quant/*_math.h):
//   host:   launches on the current stream (kernels/cuda/context.h) with a launch check, the grid of
//           a grid-stride loop (one full wave of the kernel's resident blocks, launch.cuh's
//           resident_grid, in float4 groups on the vector path), async zeroing of accumulators,
//           and the one-thread finalize kernel;
//   device: grid-stride elementwise loops driven by a functor (float4 loads/stores when the caller
//           says every pointer is 16-byte aligned, then the scalar tail; kUnroll loads in flight
//           per thread), block reductions of per-thread double partial sums (warp shuffle, then one
//           warp over the per-warp partials in shared memory) ending in one atomic per block per
//           accumulator, the block max of non-negative floats with its bit-pattern atomicMax, and
//           the tie lists of the fused max-path backwards (quant_ties.h) with their fixup kernel.
// Every block has kThreads threads (the reductions size their shared memory for it).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/quant_ties.h"

namespace lowbit::cuda::qlaunch {

inline constexpr int kThreads = 256;  // threads per block (a multiple of 32)

// ---------------------------------------------------------------- host side

// Blocks for a grid-stride loop of `kernel` over n elements (float4 groups when vec): one full wave
// of the blocks the kernel keeps resident (launch.cuh's resident_grid), fewer for small n.
template <class Kernel>
unsigned grid_for(Kernel kernel, int64_t n, bool vec) {
  return resident_grid(kernel, vec ? (n + 3) / 4 : n, kThreads);
}

// kernel<<<grid, kThreads>>>(args...) on the current stream, then the launch check.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), unsigned grid, Args&&... args) {
  kernel<<<grid, kThreads, 0, current_stream()>>>(std::forward<Args>(args)...);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// The kernel of a grid-stride loop over n elements (float4 groups when vec) on grid_for's grid.
template <class... Params, class... Args>
void launch_stride(void (*kernel)(Params...), int64_t n, bool vec, Args&&... args) {
  launch(kernel, grid_for(kernel, n, vec), std::forward<Args>(args)...);
}

// Zeroes `bytes` of device memory, ordered on the current stream.
inline void zero_async(void* p, size_t bytes) { LOWBIT_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, current_stream())); }

// ---------------------------------------------------------------- grid-stride elementwise loops

__device__ __forceinline__ int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Work items (float4 groups) a thread loads before it processes any of them: kUnroll 16-byte
// loads per input in flight per thread, so a kernel whose per-element math is long (divisions,
// tanh, exp) still keeps enough bytes in flight to saturate HBM.
inline constexpr int kUnroll = 4;

// For every item i < items: process(i, load(i)). A thread takes the items thread_index() +
// k·grid_stride() in increasing k (the order of a plain grid-stride loop), U at a time: all U
// loads are issued before the first process. (U = 1 suits compute-bound math: fewer registers,
// more resident warps.)
template <int U = kUnroll, class Load, class Process>
__device__ __forceinline__ void stride_items(int64_t items, Load&& load, Process&& process) {
  const int64_t s = grid_stride();
  int64_t i = thread_index();
  for (; i + (U - 1) * s < items; i += U * s) {
    decltype(load(i)) v[U];
#pragma unroll
    for (int k = 0; k < U; ++k) v[k] = load(i + k * s);
#pragma unroll
    for (int k = 0; k < U; ++k) process(i + k * s, v[k]);
  }
  for (; i < items; i += s) process(i, load(i));
}

struct Float4x2 {
  float4 a, b;
};

// f(x[i]) for every i < n; float4 loads when vec (x 16-byte aligned), then the scalar tail. The
// four lanes of a float4 are visited in order x, y, z, w (index order within a thread).
template <class F>
__device__ __forceinline__ void visit1(const float* __restrict__ x, int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  stride_items(
      n4, [&](int64_t i) { return x4[i]; },
      [&](int64_t, const float4& a) {
        f(a.x);
        f(a.y);
        f(a.z);
        f(a.w);
      });
  stride_items(
      n - n4 * 4, [&](int64_t i) { return x[n4 * 4 + i]; }, [&](int64_t, float v) { f(v); });
}

// f(a[i], b[i]) for every i < n (vec: a and b 16-byte aligned); lanes in order as visit1.
template <class F>
__device__ __forceinline__ void visit2(const float* __restrict__ a, const float* __restrict__ b, int64_t n, bool vec,
                                       F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  const float4 *a4 = reinterpret_cast<const float4*>(a), *b4 = reinterpret_cast<const float4*>(b);
  stride_items(
      n4, [&](int64_t i) { return Float4x2{a4[i], b4[i]}; },
      [&](int64_t, const Float4x2& v) {
        f(v.a.x, v.b.x);
        f(v.a.y, v.b.y);
        f(v.a.z, v.b.z);
        f(v.a.w, v.b.w);
      });
  stride_items(
      n - n4 * 4, [&](int64_t i) { return float2{a[n4 * 4 + i], b[n4 * 4 + i]}; },
      [&](int64_t, const float2& v) { f(v.x, v.y); });
}

// y[i] = f(x[i]) (vec: x and y 16-byte aligned). The four lanes of a float4 are applied in order
// x, y, z, w, so a functor that also accumulates sees a thread's elements in index order.
template <class F>
__device__ __forceinline__ void map1(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  stride_items(
      n4, [&](int64_t i) { return x4[i]; },
      [&](int64_t i, const float4& a) {
        float4 o;
        o.x = f(a.x);
        o.y = f(a.y);
        o.z = f(a.z);
        o.w = f(a.w);
        y4[i] = o;
      });
  stride_items(
      n - n4 * 4, [&](int64_t i) { return x[n4 * 4 + i]; }, [&](int64_t i, float v) { y[n4 * 4 + i] = f(v); });
}

// out[i] = f(i, a[i], b[i]) (vec: a, b and out 16-byte aligned); lanes in order as map1; U float4
// pairs in flight per thread.
template <int U = kUnroll, class F>
__device__ __forceinline__ void map2i(const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ out, int64_t n, bool vec, F&& f) {
  const int64_t n4 = vec ? n / 4 : 0;
  const float4 *a4 = reinterpret_cast<const float4*>(a), *b4 = reinterpret_cast<const float4*>(b);
  float4* o4 = reinterpret_cast<float4*>(out);
  stride_items<U>(
      n4, [&](int64_t i) { return Float4x2{a4[i], b4[i]}; },
      [&](int64_t i, const Float4x2& v) {
        float4 o;
        o.x = f(4 * i, v.a.x, v.b.x);
        o.y = f(4 * i + 1, v.a.y, v.b.y);
        o.z = f(4 * i + 2, v.a.z, v.b.z);
        o.w = f(4 * i + 3, v.a.w, v.b.w);
        o4[i] = o;
      });
  stride_items(
      n - n4 * 4, [&](int64_t i) { return float2{a[n4 * 4 + i], b[n4 * 4 + i]}; },
      [&](int64_t i, const float2& v) { out[n4 * 4 + i] = f(n4 * 4 + i, v.x, v.y); });
}

// out[i] = f(a[i], b[i]) (vec: a, b and out 16-byte aligned); lanes in order as map1.
template <int U = kUnroll, class F>
__device__ __forceinline__ void map2(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                     int64_t n, bool vec, F&& f) {
  map2i<U>(a, b, out, n, vec, [&](int64_t, float u, float v) { return f(u, v); });
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
  launch_stride(map1_kernel<Op>, n, vec, x, y, n, vec, op);
}

template <class Op>
void launch_map2(const float* a, const float* b, float* out, int64_t n, Op op) {
  if (n == 0) return;
  const bool vec = aligned16(a, b, out);
  launch_stride(map2_kernel<Op>, n, vec, a, b, out, n, vec, op);
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

// ---------------------------------------------------------------- tie lists (kernels/cuda/quant_ties.h)

// The tie list inside a max-path scratch of kMaxPathScratchWords words: [0] the count, then the
// indices (the scratch's word 0, the double sum S, comes before it).
__device__ __forceinline__ unsigned long long* tie_list(double* scratch) {
  return reinterpret_cast<unsigned long long*>(scratch + 1);
}

// Appends element i to the list (its count keeps counting past kTieSlots; those are not stored).
__device__ __forceinline__ void record_tie(unsigned long long* list, int64_t i) {
  const unsigned long long slot = atomicAdd(list, 1ull);
  if (slot < static_cast<unsigned long long>(kTieSlots)) list[1 + slot] = static_cast<unsigned long long>(i);
}

// After a fused pass that wrote out[i] without the max-path term and recorded the ties: out[i] =
// fix(a[i], b[i]) for every tie. Fix: copyable, with `__device__ void prepare()` (reads the pass's
// sums; called once per thread) and `__device__ bool is_tie(float a, float b)`, the recording
// predicate. A list that overflowed is replaced by a grid-stride scan for is_tie.
template <class Fix>
__global__ void fix_ties_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                int64_t n, const unsigned long long* __restrict__ list, Fix fix) {
  const unsigned long long count = list[0];
  if (count == 0) return;
  fix.prepare();
  if (count <= static_cast<unsigned long long>(kTieSlots)) {
    if (blockIdx.x == 0 && threadIdx.x < count) {
      const int64_t i = static_cast<int64_t>(list[1 + threadIdx.x]);
      out[i] = fix(a[i], b[i]);
    }
    return;
  }
  for (int64_t i = thread_index(); i < n; i += grid_stride())
    if (fix.is_tie(a[i], b[i])) out[i] = fix(a[i], b[i]);
}

template <class Fix>
void launch_fix_ties(const float* a, const float* b, float* out, int64_t n, const double* scratch, Fix fix) {
  const auto* list = reinterpret_cast<const unsigned long long*>(scratch + 1);
  launch_stride(fix_ties_kernel<Fix>, n, false, a, b, out, n, list, fix);
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
