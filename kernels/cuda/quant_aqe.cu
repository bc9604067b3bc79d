// CUDA kernels of the AQE estimator (per-element math: kernels/quant/aqe_math.h).
// Napkin math (fp32, per element): forward reads 4 B, writes 4 B (8 B, the floor); backward reads
// g and x, writes dx (12 B). ~5 flops/element: memory-bound. No reductions (α is a buffer set by
// the trainer, read from device memory). Grid-stride loops, float4 when 16-byte aligned.
#include "kernels/cuda/quant_aqe.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/quant/aqe_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
  int64_t blocks = (n / 4 + kThreads - 1) / kThreads;
  return static_cast<int>(std::clamp<int64_t>(blocks, 1, 4096));
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

__device__ __forceinline__ int64_t thread_index() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// alpha == nullptr: hard forward h(x).
__global__ void k_aqe_forward(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, int levels,
                              float delta, const float* __restrict__ alpha) {
  const bool hard = alpha == nullptr;
  const float a = hard ? 1.f : *alpha;
  auto f = [&](float v) { return hard ? quant::aqe_h(v, levels, delta) : quant::aqe_forward(v, a, levels, delta); };
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(y)[i] = make_float4(f(v.x), f(v.y), f(v.z), f(v.w));
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) y[i] = f(x[i]);
}

__global__ void k_aqe_backward(const float* __restrict__ g, const float* __restrict__ x, float* __restrict__ dx,
                               int64_t n, bool vec, const float* __restrict__ alpha) {
  const float a = *alpha;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    const float4 xv = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(dx)[i] = make_float4(quant::aqe_dx(gv.x, xv.x, a), quant::aqe_dx(gv.y, xv.y, a),
                                                   quant::aqe_dx(gv.z, xv.z, a), quant::aqe_dx(gv.w, xv.w, a));
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) dx[i] = quant::aqe_dx(g[i], x[i], a);
}

}  // namespace

void aqe_forward(const float* x, float* y, int64_t n, int levels, float delta, const float* alpha) {
  if (n == 0) return;
  k_aqe_forward<<<grid_for(n), kThreads, 0, 0>>>(x, y, n, aligned16(x) && aligned16(y), levels, delta, alpha);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void aqe_backward(const float* g, const float* x, float* dx, int64_t n, const float* alpha) {
  if (n == 0) return;
  k_aqe_backward<<<grid_for(n), kThreads, 0, 0>>>(g, x, dx, n, aligned16(g) && aligned16(x) && aligned16(dx), alpha);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
