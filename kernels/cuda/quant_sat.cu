// CUDA kernels of the SAT quantizers (per-element math: kernels/quant/sat_math.h).
// Napkin math (fp32, per element):
//   weight forward: max|tanh w| pass (read 4 B) + Σ Q, Σ Q², #max pass (read 4 B) + output pass
//     (read 4 B, write 4 B) = 16 B/element; floor 8 B + 4 per statistic pass. ~30 flops (2 tanh).
//   weight backward: Σ g·tanh w pass (read 8 B, autograd max path only) + output pass (read 8 B,
//     write 4 B) = 20 B/element (12 B with a constant M).
//   CG-PACT forward 8 B/element; backward 12 B/element with dα reduced in the same pass.
// Reductions: warp shuffle + shared memory per block, one atomic per block (double accumulators;
// the max as an int atomicMax on the bits of a non-negative float). Grid-stride loops, float4
// loads when every pointer is 16-byte aligned.
#include "kernels/cuda/quant_sat.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/quant/sat_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
  int64_t blocks = (n / 4 + kThreads - 1) / kThreads;
  return static_cast<int>(std::clamp<int64_t>(blocks, 1, 4096));
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Block-wide sum; the result is valid in thread 0. Safe to call several times in a row.
__device__ double block_sum(double v) {
  __shared__ double partial[kThreads / 32];
  __syncthreads();  // a previous call may still be reading `partial`
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? partial[lane] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

__device__ float block_max(float v) {
  __shared__ float partial[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? partial[lane] : 0.f;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ int64_t thread_index() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// M of a stats block, with the all-zero guard of the CPU loop.
__device__ __forceinline__ float stats_M(const float* stats) {
  const float M = stats[0];
  return M > 0.f ? M : 1.f;
}

// stats[0] (zeroed before) = max|tanh w| via atomicMax on the bits (valid for values >= 0).
__global__ void k_sat_absmax(const float* __restrict__ w, int64_t n, bool vec, float* stats) {
  float m = 0.f;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 v = reinterpret_cast<const float4*>(w)[i];
    m = fmaxf(fmaxf(fmaxf(m, quant::sat_abs_tanh(v.x)), quant::sat_abs_tanh(v.y)),
              fmaxf(quant::sat_abs_tanh(v.z), quant::sat_abs_tanh(v.w)));
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) m = fmaxf(m, quant::sat_abs_tanh(w[i]));
  m = block_max(m);
  if (threadIdx.x == 0) atomicMax(reinterpret_cast<int*>(stats), __float_as_int(m));
}

// acc[0..2] (zeroed before) += Σ Q, Σ Q², #{|t| = M}.
__global__ void k_sat_qstats(const float* __restrict__ w, int64_t n, bool vec, int bits, int scheme,
                             const float* __restrict__ stats, double* acc) {
  const float M = stats_M(stats);
  double s = 0.0, s2 = 0.0, k = 0.0;
  auto add = [&](float x) {
    const double q = quant::sat_weight_Q(x, M, bits, scheme);
    s += q;
    s2 += q * q;
    k += quant::sat_abs_tanh(x) == M ? 1.0 : 0.0;
  };
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 v = reinterpret_cast<const float4*>(w)[i];
    add(v.x); add(v.y); add(v.z); add(v.w);
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) add(w[i]);
  s = block_sum(s);
  s2 = block_sum(s2);
  k = block_sum(k);
  if (threadIdx.x == 0) {
    atomicAdd(acc, s);
    atomicAdd(acc + 1, s2);
    atomicAdd(acc + 2, k);
  }
}

// One thread: stats = {M, scale, k} from the accumulators (the CPU loop's formula).
__global__ void k_sat_finalize(float* stats, const double* acc, int64_t n, bool rescale, int64_t n_out) {
  double scale = 1.0;
  if (rescale) {
    const double s = acc[0], s2 = acc[1];
    const double var = n > 1 ? (s2 - s * s / static_cast<double>(n)) / static_cast<double>(n - 1) : 0.0;
    const double sd = var > 0.0 ? sqrt(var) : 1.0;
    scale = 1.0 / (sqrt(static_cast<double>(n_out)) * sd);
  }
  stats[0] = stats_M(stats);
  stats[1] = static_cast<float>(scale);
  stats[2] = static_cast<float>(acc[2]);
}

__global__ void k_sat_forward(const float* __restrict__ w, float* __restrict__ y, int64_t n, bool vec, int bits,
                              int scheme, const float* __restrict__ stats) {
  const float M = stats[0], scale = stats[1];
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 v = reinterpret_cast<const float4*>(w)[i];
    float4 o;
    o.x = quant::sat_weight_Q(v.x, M, bits, scheme) * scale;
    o.y = quant::sat_weight_Q(v.y, M, bits, scheme) * scale;
    o.z = quant::sat_weight_Q(v.z, M, bits, scheme) * scale;
    o.w = quant::sat_weight_Q(v.w, M, bits, scheme) * scale;
    reinterpret_cast<float4*>(y)[i] = o;
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride())
    y[i] = quant::sat_weight_Q(w[i], M, bits, scheme) * scale;
}

// acc[0] (zeroed before) += Σ g·tanh(w).
__global__ void k_sat_gt(const float* __restrict__ g, const float* __restrict__ w, int64_t n, bool vec, double* acc) {
  double s = 0.0;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    const float4 wv = reinterpret_cast<const float4*>(w)[i];
    s += static_cast<double>(gv.x) * tanhf(wv.x) + static_cast<double>(gv.y) * tanhf(wv.y) +
         static_cast<double>(gv.z) * tanhf(wv.z) + static_cast<double>(gv.w) * tanhf(wv.w);
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) s += static_cast<double>(g[i]) * tanhf(w[i]);
  s = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(acc, s);
}

// acc == nullptr: constant M (no max path).
__global__ void k_sat_backward(const float* __restrict__ g, const float* __restrict__ w, float* __restrict__ dx,
                               int64_t n, bool vec, const float* __restrict__ stats, const double* __restrict__ acc) {
  const float M = stats[0], scale = stats[1], k = stats[2];
  float share = 0.f;
  if (acc != nullptr && k > 0.f)
    share = static_cast<float>(-static_cast<double>(scale) * acc[0] / (static_cast<double>(M) * M) / k);
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    const float4 wv = reinterpret_cast<const float4*>(w)[i];
    float4 o;
    o.x = quant::sat_weight_dx(gv.x, wv.x, M, scale, share);
    o.y = quant::sat_weight_dx(gv.y, wv.y, M, scale, share);
    o.z = quant::sat_weight_dx(gv.z, wv.z, M, scale, share);
    o.w = quant::sat_weight_dx(gv.w, wv.w, M, scale, share);
    reinterpret_cast<float4*>(dx)[i] = o;
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride())
    dx[i] = quant::sat_weight_dx(g[i], w[i], M, scale, share);
}

__global__ void k_cgpact_forward(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, int bits,
                                 const float* __restrict__ alpha_p) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    float4 o;
    o.x = quant::cgpact_forward(v.x, alpha, steps);
    o.y = quant::cgpact_forward(v.y, alpha, steps);
    o.z = quant::cgpact_forward(v.z, alpha, steps);
    o.w = quant::cgpact_forward(v.w, alpha, steps);
    reinterpret_cast<float4*>(y)[i] = o;
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) y[i] = quant::cgpact_forward(x[i], alpha, steps);
}

// dx, and acc[0] (zeroed before) += Σ calibrated clip gradient.
__global__ void k_cgpact_backward(const float* __restrict__ g, const float* __restrict__ x, float* __restrict__ dx,
                                  int64_t n, bool vec, int bits, const float* __restrict__ alpha_p, double* acc) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  double da = 0.0;
  const int64_t n4 = vec ? n / 4 : 0;
  for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
    const float4 gv = reinterpret_cast<const float4*>(g)[i];
    const float4 xv = reinterpret_cast<const float4*>(x)[i];
    float4 o;
    o.x = quant::cgpact_dx(gv.x, xv.x, alpha);
    o.y = quant::cgpact_dx(gv.y, xv.y, alpha);
    o.z = quant::cgpact_dx(gv.z, xv.z, alpha);
    o.w = quant::cgpact_dx(gv.w, xv.w, alpha);
    reinterpret_cast<float4*>(dx)[i] = o;
    da += quant::cgpact_dalpha(gv.x, xv.x, alpha, steps) + quant::cgpact_dalpha(gv.y, xv.y, alpha, steps) +
          quant::cgpact_dalpha(gv.z, xv.z, alpha, steps) + quant::cgpact_dalpha(gv.w, xv.w, alpha, steps);
  }
  for (int64_t i = n4 * 4 + thread_index(); i < n; i += grid_stride()) {
    dx[i] = quant::cgpact_dx(g[i], x[i], alpha);
    da += quant::cgpact_dalpha(g[i], x[i], alpha, steps);
  }
  da = block_sum(da);
  if (threadIdx.x == 0) atomicAdd(acc, da);
}

__global__ void k_cgpact_finalize(const double* acc, const float* alpha_p, float* dalpha_p) {
  const float a = *alpha_p;
  const double sgn = a > 0.f ? 1.0 : (a < 0.f ? -1.0 : 0.0);
  *dalpha_p = static_cast<float>(sgn * acc[0]);
}

}  // namespace

void sat_weight_forward(const float* w, float* y, float* stats, double* work, int64_t n, int bits, int scheme,
                        bool rescale, int64_t n_out) {
  const bool vec = aligned16(w) && aligned16(y);
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(stats, 0, 3 * sizeof(float), 0));
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(work, 0, 3 * sizeof(double), 0));
  if (n == 0) {
    k_sat_finalize<<<1, 1, 0, 0>>>(stats, work, n, rescale, n_out);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
    return;
  }
  k_sat_absmax<<<grid_for(n), kThreads, 0, 0>>>(w, n, vec, stats);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  k_sat_qstats<<<grid_for(n), kThreads, 0, 0>>>(w, n, vec, bits, scheme, stats, work);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  k_sat_finalize<<<1, 1, 0, 0>>>(stats, work, n, rescale, n_out);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  k_sat_forward<<<grid_for(n), kThreads, 0, 0>>>(w, y, n, vec, bits, scheme, stats);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void sat_weight_backward(const float* g, const float* w, float* dx, const float* stats, double* work, int64_t n,
                         bool autograd_max) {
  if (n == 0) return;
  const bool vec = aligned16(g) && aligned16(w) && aligned16(dx);
  if (autograd_max) {
    LOWBIT_CUDA_CHECK(cudaMemsetAsync(work, 0, sizeof(double), 0));
    k_sat_gt<<<grid_for(n), kThreads, 0, 0>>>(g, w, n, vec, work);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
  }
  k_sat_backward<<<grid_for(n), kThreads, 0, 0>>>(g, w, dx, n, vec, stats, autograd_max ? work : nullptr);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p) {
  if (n == 0) return;
  k_cgpact_forward<<<grid_for(n), kThreads, 0, 0>>>(x, y, n, aligned16(x) && aligned16(y), bits, alpha_p);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, double* work, int64_t n, int bits,
                     const float* alpha_p) {
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(work, 0, sizeof(double), 0));
  if (n > 0) {
    const bool vec = aligned16(g) && aligned16(x) && aligned16(dx);
    k_cgpact_backward<<<grid_for(n), kThreads, 0, 0>>>(g, x, dx, n, vec, bits, alpha_p, work);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
  }
  k_cgpact_finalize<<<1, 1, 0, 0>>>(work, alpha_p, dalpha_p);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
