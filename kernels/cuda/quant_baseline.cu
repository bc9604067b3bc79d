// CUDA kernels of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT). Per-element
// math: kernels/quant/baseline_math.h; launch plumbing: kernels/cuda/quant_launch.cuh. Grid-stride
// loops; the element-wise maps and PACT use float4 loads when every pointer is 16-byte aligned
// (scalar tail), the reduction passes and the per-channel XNOR kernels use coalesced scalar loads.
// Current stream, no host synchronization; scalar parameters are read from device memory and
// parameter gradients / statistics are reduced in the kernel (warp shuffle + shared memory per
// block, one atomic per block).
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

#include "kernels/cuda/quant_launch.cuh"
#include "kernels/quant/baseline_math.h"

namespace lowbit::cuda::qbase {

namespace {

namespace bm = ::lowbit::basemath;

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

// ---- PACT: α = |α_p| read from device memory; the backward reduces dα_p in the kernel ----

__global__ void pact_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n,
                                    const float* __restrict__ alpha_p, int bits, bool vec) {
  const float alpha = fabsf(*alpha_p);
  qlaunch::map1(x, y, n, vec, [&](float v) { return bm::pact_forward(v, alpha, bits); });
}

__global__ void pact_backward_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                                     int64_t n, const float* __restrict__ alpha_p, float* __restrict__ dalpha_p,
                                     bool vec) {
  const float ap = *alpha_p, alpha = fabsf(ap);
  double acc = 0.0;
  qlaunch::map2(x, g, dx, n, vec, [&](float xv, float gv) {
    acc += bm::pact_alpha_term(xv, gv, alpha);
    return gv * bm::pact_backward(xv, alpha);
  });
  const double block = qlaunch::block_sum(acc);
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
  double total = qlaunch::block_sum(s);
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
  double total = qlaunch::block_sum(s);
  if (threadIdx.x == 0) s_shared = static_cast<float>(total / static_cast<double>(per));
  __syncthreads();
  float s_over_n = s_shared, a = alpha[blockIdx.x];
  for (int64_t j = threadIdx.x; j < per; j += blockDim.x) dc[j] = bm::xnor_backward(wc[j], gc[j], a, s_over_n);
}

// ---- DoReFa weights (scalar loads: vec = false) ----

__global__ void sum_abs_kernel(const float* __restrict__ w, int64_t n, double* __restrict__ out) {
  double part[1] = {0.0};
  qlaunch::visit1(w, n, /*vec=*/false, [&](float v) { part[0] += fabsf(v); });
  qlaunch::block_sum_atomic<1>(part, out);
}

__global__ void dorefa_w1_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n,
                                         const double* __restrict__ sum_abs) {
  const float e = static_cast<float>(*sum_abs / static_cast<double>(n));
  qlaunch::map1(w, y, n, /*vec=*/false, [&](float v) { return bm::dorefa_w1_forward(v, e); });
}

// stats[0] <- max|tanh w| (non-negative floats order like their bit patterns: atomicMax on bits).
__global__ void max_abs_tanh_kernel(const float* __restrict__ w, int64_t n, float* __restrict__ stats) {
  float m = 0.f;
  qlaunch::visit1(w, n, /*vec=*/false, [&](float v) { m = fmaxf(m, fabsf(tanhf(v))); });
  const float block = qlaunch::block_max_nonneg(m);
  if (threadIdx.x == 0) qlaunch::atomic_max_nonneg(stats, block);
}

// y and the number of elements attaining M (stats[1]).
__global__ void dorefa_wk_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n, int bits,
                                         float* __restrict__ stats) {
  const float m = stats[0];
  double ties = 0.0;
  qlaunch::map1(w, y, n, /*vec=*/false, [&](float v) {
    if (m > 0.f && fabsf(tanhf(v)) == m) ties += 1.0;
    return bm::dorefa_wk_forward(v, m, bits);
  });
  const double block = qlaunch::block_sum(ties);
  if (threadIdx.x == 0 && block > 0.0) atomicAdd(stats + 1, static_cast<float>(block));
}

__global__ void sum_g_tanh_kernel(const float* __restrict__ w, const float* __restrict__ g, int64_t n,
                                  double* __restrict__ out) {
  double part[1] = {0.0};
  qlaunch::visit2(w, g, n, /*vec=*/false, [&](float wv, float gv) { part[0] += bm::dorefa_wk_dm_term(wv, gv); });
  qlaunch::block_sum_atomic<1>(part, out);
}

__global__ void dorefa_wk_backward_kernel(const float* __restrict__ w, const float* __restrict__ g,
                                          float* __restrict__ dw, int64_t n, const float* __restrict__ stats,
                                          const double* __restrict__ sum_gt) {
  const float m = stats[0];
  const float dl_dm_over_count =
      m > 0.f ? static_cast<float>(-*sum_gt / (static_cast<double>(m) * m) / static_cast<double>(stats[1])) : 0.f;
  qlaunch::map2(w, g, dw, n, /*vec=*/false, [&](float v, float gv) {
    return gv * bm::dorefa_wk_direct(v, m) + bm::dorefa_wk_max_path(v, m, dl_dm_over_count);
  });
}

}  // namespace

void ste_forward(const float* x, float* y, int64_t n, int bits, float lo) {
  qlaunch::launch_map1(x, y, n, SteFwd{bits, lo});
}

void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate) {
  qlaunch::launch_map2(x, g, dx, n, SteBwd{saturate});
}

void dorefa_act_forward(const float* x, float* y, int64_t n, int bits) {
  qlaunch::launch_map1(x, y, n, DorefaActFwd{bits});
}

void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n) {
  qlaunch::launch_map2(x, g, dx, n, DorefaActBwd{});
}

void pact_forward(const float* x, float* y, int64_t n, const float* alpha_p, int bits) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  qlaunch::launch(pact_forward_kernel, qlaunch::grid_for(n, vec), x, y, n, alpha_p, bits, vec);
}

void pact_backward(const float* x, const float* g, float* dx, int64_t n, const float* alpha_p, float* dalpha_p) {
  qlaunch::zero_async(dalpha_p, sizeof(float));
  if (n == 0) return;
  const bool vec = aligned16(x, g, dx);
  qlaunch::launch(pact_backward_kernel, qlaunch::grid_for(n, vec), x, g, dx, n, alpha_p, dalpha_p, vec);
}

void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per) {
  if (channels == 0 || per == 0) return;
  qlaunch::launch(xnor_forward_kernel, static_cast<unsigned>(channels), w, y, alpha, per);
}

void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per) {
  if (channels == 0 || per == 0) return;
  qlaunch::launch(xnor_backward_kernel, static_cast<unsigned>(channels), w, g, alpha, dw, per);
}

void dorefa_w1_forward(const float* w, float* y, int64_t n, double* sum_abs) {
  if (n == 0) return;
  qlaunch::zero_async(sum_abs, sizeof(double));
  const unsigned grid = qlaunch::grid_for(n, false);
  qlaunch::launch(sum_abs_kernel, grid, w, n, sum_abs);
  qlaunch::launch(dorefa_w1_forward_kernel, grid, w, y, n, sum_abs);
}

void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats) {
  qlaunch::zero_async(stats, 2 * sizeof(float));
  if (n == 0) return;
  const unsigned grid = qlaunch::grid_for(n, false);
  qlaunch::launch(max_abs_tanh_kernel, grid, w, n, stats);
  qlaunch::launch(dorefa_wk_forward_kernel, grid, w, y, n, bits, stats);
}

void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats, double* scratch) {
  if (n == 0) return;
  qlaunch::zero_async(scratch, sizeof(double));
  const unsigned grid = qlaunch::grid_for(n, false);
  qlaunch::launch(sum_g_tanh_kernel, grid, w, g, n, scratch);
  qlaunch::launch(dorefa_wk_backward_kernel, grid, w, g, dw, n, stats, scratch);
}

}  // namespace lowbit::cuda::qbase
