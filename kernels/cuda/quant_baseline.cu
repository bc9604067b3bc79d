// CUDA kernels of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT). Per-element
// math: kernels/quant/baseline_math.h. Grid-stride loops; the element-wise maps and PACT use float4
// loads when every pointer is 16-byte aligned (scalar tail), the reduction passes and the
// per-channel XNOR kernels use coalesced scalar loads. Stream 0, no host synchronization; scalar
// parameters are read from device memory and parameter gradients / statistics are reduced in the
// kernel (warp shuffle + shared memory per block, one atomic per block).
//
// Napkin math (f32, bytes per element; the memory floor is bytes / HBM bandwidth):
//   STE/BNN, DoReFa act, PACT forward: read x, write y = 8 B.   Backward: x, g, dx = 12 B
//     (PACT adds the in-kernel dα reduction: no extra traffic).
//   XNOR weights (one block per output channel): forward reads W twice (|W| sum, then y; the
//     second read hits L2 for channels below ~MBs) + writes y = 8–12 B; backward reads W, g twice
//     + writes dW = 12–20 B.
//   DoReFa weights k = 1: reduction pass Σ|w| (4 B) + forward (8 B) = 12 B; backward is g itself.
//   DoReFa weights k ≥ 2: forward max|tanh w| pass (4 B) + forward (8 B) = 12 B; backward
//     Σ g·tanh w pass (8 B) + elementwise (12 B) = 20 B. ~1 tanhf per element per pass (compute
//     stays far below the memory time on H100).
#include "kernels/cuda/quant_baseline.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/quant/baseline_math.h"

namespace lowbit::cuda::qbase {

namespace {

namespace bm = ::lowbit::basemath;

constexpr int kThreads = 256;

// Enough blocks to fill the device (a few per SM), capped by the work (4 elements per thread).
int grid_for(int64_t n) {
  static int sms = [] {
    int dev = 0, count = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      count = 132;
    return count;
  }();
  int64_t want = (n + kThreads * 4 - 1) / (kThreads * 4);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, static_cast<int64_t>(sms) * 8)));
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Sum of v over the block; the result is valid in thread 0.
__device__ double block_sum(double v) {
  __shared__ double warp_sums[kThreads / 32];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? warp_sums[lane] : 0.0;
  if (warp == 0)
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  __syncthreads();  // warp_sums may be reused by a following call
  return v;
}

// Max of non-negative v over the block; valid in thread 0.
__device__ float block_max_nonneg(float v) {
  __shared__ float warp_max[kThreads / 32];
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_max[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? warp_max[lane] : 0.f;
  if (warp == 0)
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
  __syncthreads();
  return v;
}

// ---- element-wise maps: y[i] = op(x[i]) and dx[i] = op(x[i], g[i]) ----

struct SteFwd {
  int bits;
  float lo;
  __device__ float operator()(float x) const { return bm::ste_forward(x, bits, lo); }
};
struct SteBwd {
  bool saturate;
  __device__ float operator()(float x, float g) const { return g * bm::ste_backward(x, saturate); }
};
struct DorefaActFwd {
  int bits;
  __device__ float operator()(float x) const { return bm::dorefa_act_forward(x, bits); }
};
struct DorefaActBwd {
  __device__ float operator()(float x, float g) const { return g * bm::dorefa_act_backward(x); }
};

template <class Op>
__global__ void map1_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, Op op, bool vec) {
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t start = 0;
  if (vec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 v = x4[i];
      y4[i] = make_float4(op(v.x), op(v.y), op(v.z), op(v.w));
    }
    start = n4 * 4;
  }
  for (int64_t i = start + tid; i < n; i += stride) y[i] = op(x[i]);
}

template <class Op>
__global__ void map2_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                            int64_t n, Op op, bool vec) {
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t start = 0;
  if (vec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* g4 = reinterpret_cast<const float4*>(g);
    float4* d4 = reinterpret_cast<float4*>(dx);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 a = x4[i], b = g4[i];
      d4[i] = make_float4(op(a.x, b.x), op(a.y, b.y), op(a.z, b.z), op(a.w, b.w));
    }
    start = n4 * 4;
  }
  for (int64_t i = start + tid; i < n; i += stride) dx[i] = op(x[i], g[i]);
}

template <class Op>
void launch_map1(const float* x, float* y, int64_t n, Op op) {
  if (n == 0) return;
  map1_kernel<<<grid_for(n), kThreads, 0, 0>>>(x, y, n, op, aligned16(x) && aligned16(y));
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

template <class Op>
void launch_map2(const float* x, const float* g, float* dx, int64_t n, Op op) {
  if (n == 0) return;
  map2_kernel<<<grid_for(n), kThreads, 0, 0>>>(x, g, dx, n, op, aligned16(x) && aligned16(g) && aligned16(dx));
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// ---- PACT: α = |α_p| read from device memory; the backward reduces dα_p in the kernel ----

__global__ void pact_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n,
                                    const float* __restrict__ alpha_p, int bits, bool vec) {
  float alpha = fabsf(*alpha_p);
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t start = 0;
  if (vec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 v = x4[i];
      y4[i] = make_float4(bm::pact_forward(v.x, alpha, bits), bm::pact_forward(v.y, alpha, bits),
                          bm::pact_forward(v.z, alpha, bits), bm::pact_forward(v.w, alpha, bits));
    }
    start = n4 * 4;
  }
  for (int64_t i = start + tid; i < n; i += stride) y[i] = bm::pact_forward(x[i], alpha, bits);
}

__global__ void pact_backward_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                                     int64_t n, const float* __restrict__ alpha_p, float* __restrict__ dalpha_p,
                                     bool vec) {
  float ap = *alpha_p, alpha = fabsf(ap);
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t start = 0;
  double acc = 0.0;
  if (vec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* g4 = reinterpret_cast<const float4*>(g);
    float4* d4 = reinterpret_cast<float4*>(dx);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 a = x4[i], b = g4[i];
      d4[i] = make_float4(b.x * bm::pact_backward(a.x, alpha), b.y * bm::pact_backward(a.y, alpha),
                          b.z * bm::pact_backward(a.z, alpha), b.w * bm::pact_backward(a.w, alpha));
      acc += static_cast<double>(bm::pact_alpha_term(a.x, b.x, alpha)) + bm::pact_alpha_term(a.y, b.y, alpha) +
             bm::pact_alpha_term(a.z, b.z, alpha) + bm::pact_alpha_term(a.w, b.w, alpha);
    }
    start = n4 * 4;
  }
  for (int64_t i = start + tid; i < n; i += stride) {
    dx[i] = g[i] * bm::pact_backward(x[i], alpha);
    acc += bm::pact_alpha_term(x[i], g[i], alpha);
  }
  double block = block_sum(acc);
  if (threadIdx.x == 0) atomicAdd(dalpha_p, static_cast<float>(bm::grad_sign(ap) * block));
}

// ---- XNOR-Net weights: one block per output channel ----

__global__ void xnor_forward_kernel(const float* __restrict__ w, float* __restrict__ y, float* __restrict__ alpha,
                                    int64_t per) {
  __shared__ float a_shared;
  const float* wc = w + blockIdx.x * per;
  float* yc = y + blockIdx.x * per;
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < per; j += blockDim.x) s += fabsf(wc[j]);
  double total = block_sum(s);
  if (threadIdx.x == 0) {
    a_shared = static_cast<float>(total / static_cast<double>(per));
    alpha[blockIdx.x] = a_shared;
  }
  __syncthreads();
  float a = a_shared;
  for (int64_t j = threadIdx.x; j < per; j += blockDim.x) yc[j] = bm::xnor_forward(wc[j], a);
}

__global__ void xnor_backward_kernel(const float* __restrict__ w, const float* __restrict__ g,
                                     const float* __restrict__ alpha, float* __restrict__ dw, int64_t per) {
  __shared__ float s_shared;
  const float* wc = w + blockIdx.x * per;
  const float* gc = g + blockIdx.x * per;
  float* dc = dw + blockIdx.x * per;
  double s = 0.0;
  for (int64_t j = threadIdx.x; j < per; j += blockDim.x) s += bm::xnor_s_term(wc[j], gc[j]);
  double total = block_sum(s);
  if (threadIdx.x == 0) s_shared = static_cast<float>(total / static_cast<double>(per));
  __syncthreads();
  float s_over_n = s_shared, a = alpha[blockIdx.x];
  for (int64_t j = threadIdx.x; j < per; j += blockDim.x) dc[j] = bm::xnor_backward(wc[j], gc[j], a, s_over_n);
}

// ---- DoReFa weights ----

__global__ void sum_abs_kernel(const float* __restrict__ w, int64_t n, double* __restrict__ out) {
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  double s = 0.0;
  for (int64_t i = tid; i < n; i += stride) s += fabsf(w[i]);
  double block = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(out, block);
}

__global__ void dorefa_w1_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n,
                                         const double* __restrict__ sum_abs) {
  float e = static_cast<float>(*sum_abs / static_cast<double>(n));
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = tid; i < n; i += stride) y[i] = bm::dorefa_w1_forward(w[i], e);
}

// stats[0] <- max|tanh w| (non-negative floats order like their bit patterns: atomicMax on bits).
__global__ void max_abs_tanh_kernel(const float* __restrict__ w, int64_t n, float* __restrict__ stats) {
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  float m = 0.f;
  for (int64_t i = tid; i < n; i += stride) m = fmaxf(m, fabsf(tanhf(w[i])));
  float block = block_max_nonneg(m);
  if (threadIdx.x == 0) atomicMax(reinterpret_cast<unsigned int*>(stats), __float_as_uint(block));
}

// y and the number of elements attaining M (stats[1]).
__global__ void dorefa_wk_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n, int bits,
                                         float* __restrict__ stats) {
  float m = stats[0];
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  double ties = 0.0;
  for (int64_t i = tid; i < n; i += stride) {
    float v = w[i];
    y[i] = bm::dorefa_wk_forward(v, m, bits);
    if (m > 0.f && fabsf(tanhf(v)) == m) ties += 1.0;
  }
  double block = block_sum(ties);
  if (threadIdx.x == 0 && block > 0.0) atomicAdd(stats + 1, static_cast<float>(block));
}

__global__ void sum_g_tanh_kernel(const float* __restrict__ w, const float* __restrict__ g, int64_t n,
                                  double* __restrict__ out) {
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  double s = 0.0;
  for (int64_t i = tid; i < n; i += stride) s += bm::dorefa_wk_dm_term(w[i], g[i]);
  double block = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(out, block);
}

__global__ void dorefa_wk_backward_kernel(const float* __restrict__ w, const float* __restrict__ g,
                                          float* __restrict__ dw, int64_t n, const float* __restrict__ stats,
                                          const double* __restrict__ sum_gt) {
  float m = stats[0];
  float dl_dm_over_count =
      m > 0.f ? static_cast<float>(-*sum_gt / (static_cast<double>(m) * m) / static_cast<double>(stats[1])) : 0.f;
  int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = tid; i < n; i += stride) {
    float v = w[i];
    dw[i] = g[i] * bm::dorefa_wk_direct(v, m) + bm::dorefa_wk_max_path(v, m, dl_dm_over_count);
  }
}

}  // namespace

void ste_forward(const float* x, float* y, int64_t n, int bits, float lo) { launch_map1(x, y, n, SteFwd{bits, lo}); }

void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate) {
  launch_map2(x, g, dx, n, SteBwd{saturate});
}

void dorefa_act_forward(const float* x, float* y, int64_t n, int bits) { launch_map1(x, y, n, DorefaActFwd{bits}); }

void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n) {
  launch_map2(x, g, dx, n, DorefaActBwd{});
}

void pact_forward(const float* x, float* y, int64_t n, const float* alpha_p, int bits) {
  if (n == 0) return;
  pact_forward_kernel<<<grid_for(n), kThreads, 0, 0>>>(x, y, n, alpha_p, bits, aligned16(x) && aligned16(y));
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void pact_backward(const float* x, const float* g, float* dx, int64_t n, const float* alpha_p, float* dalpha_p) {
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(dalpha_p, 0, sizeof(float), 0));
  if (n == 0) return;
  pact_backward_kernel<<<grid_for(n), kThreads, 0, 0>>>(x, g, dx, n, alpha_p, dalpha_p,
                                                        aligned16(x) && aligned16(g) && aligned16(dx));
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per) {
  if (channels == 0 || per == 0) return;
  xnor_forward_kernel<<<static_cast<unsigned>(channels), kThreads, 0, 0>>>(w, y, alpha, per);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per) {
  if (channels == 0 || per == 0) return;
  xnor_backward_kernel<<<static_cast<unsigned>(channels), kThreads, 0, 0>>>(w, g, alpha, dw, per);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void dorefa_w1_forward(const float* w, float* y, int64_t n, double* sum_abs) {
  if (n == 0) return;
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(sum_abs, 0, sizeof(double), 0));
  sum_abs_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, n, sum_abs);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  dorefa_w1_forward_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, y, n, sum_abs);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats) {
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(stats, 0, 2 * sizeof(float), 0));
  if (n == 0) return;
  max_abs_tanh_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, n, stats);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  dorefa_wk_forward_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, y, n, bits, stats);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats, double* scratch) {
  if (n == 0) return;
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(scratch, 0, sizeof(double), 0));
  sum_g_tanh_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, g, n, scratch);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  dorefa_wk_backward_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, g, dw, n, stats, scratch);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda::qbase
