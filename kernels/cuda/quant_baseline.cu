// CUDA kernels of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT). Per-element
// math: kernels/quant/baseline_math.h; launch plumbing: kernels/cuda/quant_launch.cuh. Grid-stride
// loops with float4 loads when every pointer is 16-byte aligned (scalar tail); XNOR holds each
// output channel's row in registers (one warp per channel). Current stream, no host
// synchronization; scalar parameters are read from device memory and parameter gradients /
// statistics are reduced in the kernel (warp shuffle + shared memory per block, one atomic per
// block).
//
// Napkin math (f32, bytes per element; the memory floor is bytes / HBM bandwidth):
//   STE/BNN, DoReFa act, PACT forward: read x, write y = 8 B.   Backward: x, g, dx = 12 B
//     (PACT adds the in-kernel dα reduction: no extra traffic).
//   XNOR weights, rows of <= 1024 elements (one warp per channel, row in registers): forward reads
//     W once + writes y = 8 B; backward reads W, g once + writes dW = 12 B. Longer rows (one block
//     per channel) read the row twice, the second time mostly from L1/L2.
//   DoReFa weights k = 1: reduction pass Σ|w| (4 B) + forward (8 B) = 12 B; backward is g itself.
//   DoReFa weights k ≥ 2: forward max|tanh w| pass (4 B) + forward (8 B) = 12 B; backward one
//     fused pass (12 B) that also sums Σ g·tanh w and records the elements attaining M, then a
//     fixup of those few elements (kernels/cuda/quant_ties.h). ~1 tanhf per element per pass.
#include "kernels/cuda/quant_baseline.h"

#include <type_traits>

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
  const float alpha = fabsf(*alpha_p), levels = bm::levels_minus_one(bits);
  const ExactDivisor by_alpha(alpha), by_levels(levels);
  qlaunch::map1(x, y, n, vec, [&](float v) { return bm::pact_forward_by(v, alpha, by_alpha, levels, by_levels); });
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

// ---- XNOR-Net weights ----
// Rows of up to kXnorWarpPer elements: one warp per output channel holds its row (and g's) in
// registers, so W and g are read from memory once; a lane holds K float4 (vec: per % 4 == 0 and
// w, g, y 16-byte aligned) or K scalars, coalesced across the warp. Longer rows: one block per
// channel, reading the row twice (the second read mostly from L1/L2).

constexpr int kXnorWarps = qlaunch::kThreads / 32;  // channels per block of the warp kernels
constexpr int64_t kXnorWarpPer = 1024;               // longest row of the warp kernels

// A warp's view of one row: K items per lane (float4 when Vec), item k of lane l at l + 32k.
template <bool Vec, int K>
struct WarpRow {
  using Item = std::conditional_t<Vec, float4, float>;
  static constexpr int kLanes = Vec ? 4 : 1;
  Item v[K];

  __device__ __forceinline__ static bool valid(int64_t item, int64_t per) { return item * kLanes < per; }
  __device__ __forceinline__ void load(const float* __restrict__ row, int64_t per, int lane) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t item = lane + 32 * k;
      if constexpr (Vec)
        v[k] = valid(item, per) ? reinterpret_cast<const float4*>(row)[item] : make_float4(0.f, 0.f, 0.f, 0.f);
      else
        v[k] = valid(item, per) ? row[item] : 0.f;
    }
  }
  // f(k, j, value) for every lane value j (0..kLanes) of item k.
  template <class F>
  __device__ __forceinline__ void each(F&& f) const {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      if constexpr (Vec) {
        f(k, 0, v[k].x);
        f(k, 1, v[k].y);
        f(k, 2, v[k].z);
        f(k, 3, v[k].w);
      } else {
        f(k, 0, v[k]);
      }
    }
  }
};

template <bool Vec, int K, class F>
__device__ __forceinline__ void store_row(float* __restrict__ row, int64_t per, int lane, F&& f) {
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t item = lane + 32 * k;
    if (!WarpRow<Vec, K>::valid(item, per)) continue;
    if constexpr (Vec) {
      float4 o;
      o.x = f(k, 0);
      o.y = f(k, 1);
      o.z = f(k, 2);
      o.w = f(k, 3);
      reinterpret_cast<float4*>(row)[item] = o;
    } else {
      row[item] = f(k, 0);
    }
  }
}

// Lane value j of item k of a row.
template <bool Vec, int K>
__device__ __forceinline__ float lane_value(const WarpRow<Vec, K>& r, int k, int j) {
  if constexpr (Vec) return j == 0 ? r.v[k].x : (j == 1 ? r.v[k].y : (j == 2 ? r.v[k].z : r.v[k].w));
  else return r.v[k];
}

// The warp's sum of a per-lane double, in every lane.
__device__ __forceinline__ double warp_total(double v) {
  return __shfl_sync(0xffffffffu, qlaunch::warp_sum(v), 0);
}

template <bool Vec, int K>
__global__ void xnor_forward_warp_kernel(const float* __restrict__ w, float* __restrict__ y, float* __restrict__ alpha,
                                         int64_t channels, int64_t per) {
  const int lane = threadIdx.x & 31;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kXnorWarps + (threadIdx.x >> 5);
  if (c >= channels) return;  // whole warps leave together; no block barrier follows
  WarpRow<Vec, K> r;
  r.load(w + c * per, per, lane);
  double s = 0.0;
  r.each([&](int, int, float v) { s += fabsf(v); });  // padding lanes hold 0
  const float a = static_cast<float>(warp_total(s) / static_cast<double>(per));
  if (lane == 0) alpha[c] = a;
  store_row<Vec, K>(y + c * per, per, lane, [&](int k, int j) { return bm::xnor_forward(lane_value(r, k, j), a); });
}

template <bool Vec, int K>
__global__ void xnor_backward_warp_kernel(const float* __restrict__ w, const float* __restrict__ g,
                                          const float* __restrict__ alpha, float* __restrict__ dw, int64_t channels,
                                          int64_t per) {
  const int lane = threadIdx.x & 31;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kXnorWarps + (threadIdx.x >> 5);
  if (c >= channels) return;
  WarpRow<Vec, K> rw, rg;
  rw.load(w + c * per, per, lane);
  rg.load(g + c * per, per, lane);
  double s = 0.0;
  rw.each([&](int k, int j, float v) { s += bm::xnor_s_term(v, lane_value(rg, k, j)); });  // g = 0 on padding
  const float s_over_n = static_cast<float>(warp_total(s) / static_cast<double>(per)), a = alpha[c];
  store_row<Vec, K>(dw + c * per, per, lane, [&](int k, int j) {
    return bm::xnor_backward(lane_value(rw, k, j), lane_value(rg, k, j), a, s_over_n);
  });
}

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

// Launches the warp kernels with the smallest K that holds `per` (per <= kXnorWarpPer).
template <bool Vec, class Launch>
void xnor_warp_dispatch(int64_t per, Launch&& launch) {
  const int64_t items = Vec ? (per + 3) / 4 : per;  // per lane: items / 32, rounded up
  if (items <= 32 * (Vec ? 1 : 4)) return launch(std::integral_constant<int, Vec ? 1 : 4>{});
  if (items <= 32 * (Vec ? 2 : 8)) return launch(std::integral_constant<int, Vec ? 2 : 8>{});
  if (items <= 32 * (Vec ? 4 : 16)) return launch(std::integral_constant<int, Vec ? 4 : 16>{});
  launch(std::integral_constant<int, Vec ? 8 : 32>{});
}

// ---- DoReFa weights (float4 loads when aligned) ----

__global__ void sum_abs_kernel(const float* __restrict__ w, int64_t n, bool vec, double* __restrict__ out) {
  double part[1] = {0.0};
  qlaunch::visit1(w, n, vec, [&](float v) { part[0] += fabsf(v); });
  qlaunch::block_sum_atomic<1>(part, out);
}

__global__ void dorefa_w1_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n, bool vec,
                                         const double* __restrict__ sum_abs) {
  const float e = static_cast<float>(*sum_abs / static_cast<double>(n));
  qlaunch::map1(w, y, n, vec, [&](float v) { return bm::dorefa_w1_forward(v, e); });
}

// stats[0] <- max|tanh w| (non-negative floats order like their bit patterns: atomicMax on bits).
__global__ void max_abs_tanh_kernel(const float* __restrict__ w, int64_t n, bool vec, float* __restrict__ stats) {
  float m = 0.f;
  qlaunch::visit1(w, n, vec, [&](float v) { m = fmaxf(m, fabsf(tanhf(v))); });
  const float block = qlaunch::block_max_nonneg(m);
  if (threadIdx.x == 0) qlaunch::atomic_max_nonneg(stats, block);
}

// y and the number of elements attaining M (stats[1]).
__global__ void dorefa_wk_forward_kernel(const float* __restrict__ w, float* __restrict__ y, int64_t n, bool vec,
                                         int bits, float* __restrict__ stats) {
  const float m = stats[0], levels = bm::levels_minus_one(bits);
  const ExactDivisor by_2m(2.f * m), by_levels(levels);
  double ties = 0.0;
  qlaunch::map1(w, y, n, vec, [&](float v) {
    if (m > 0.f && fabsf(tanhf(v)) == m) ties += 1.0;
    return bm::dorefa_wk_forward_by(v, m, by_2m, levels, by_levels);
  });
  const double block = qlaunch::block_sum(ties);
  if (threadIdx.x == 0 && block > 0.0) atomicAdd(stats + 1, static_cast<float>(block));
}

// dw without the max path; scratch[0] (zeroed before) += Σ g·tanh w, and the elements attaining M
// go to the tie list (kernels/cuda/quant_ties.h) for DorefaFixTie.
__global__ void dorefa_wk_backward_kernel(const float* __restrict__ w, const float* __restrict__ g,
                                          float* __restrict__ dw, int64_t n, bool vec,
                                          const float* __restrict__ stats, double* scratch) {
  const float m = stats[0];
  const ExactDivisor by_m(m);
  unsigned long long* ties = qlaunch::tie_list(scratch);
  double part[1] = {0.0};
  qlaunch::map2i(w, g, dw, n, vec, [&](int64_t i, float v, float gv) {
    part[0] += bm::dorefa_wk_dm_term(v, gv);
    if (m > 0.f && fabsf(tanhf(v)) == m) qlaunch::record_tie(ties, i);
    return gv * bm::dorefa_wk_direct(v, m, by_m) + bm::dorefa_wk_max_path(v, m, 0.f);
  });
  qlaunch::block_sum_atomic<1>(part, scratch);
}

// The max-path elements' dw (the formula of the unfused backward), dL/dM/count from the sum.
struct DorefaFixTie {
  const float* stats;
  const double* scratch;
  float m = 0.f, dl_dm_over_count = 0.f;
  __device__ void prepare() {
    m = stats[0];
    dl_dm_over_count = m > 0.f ? static_cast<float>(-*scratch / (static_cast<double>(m) * m) /
                                                    static_cast<double>(stats[1]))
                               : 0.f;
  }
  __device__ bool is_tie(float v, float) const { return m > 0.f && fabsf(tanhf(v)) == m; }
  __device__ float operator()(float v, float gv) const {
    return gv * bm::dorefa_wk_direct(v, m) + bm::dorefa_wk_max_path(v, m, dl_dm_over_count);
  }
};

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
  qlaunch::launch_stride(pact_forward_kernel, n, vec, x, y, n, alpha_p, bits, vec);
}

void pact_backward(const float* x, const float* g, float* dx, int64_t n, const float* alpha_p, float* dalpha_p) {
  qlaunch::zero_async(dalpha_p, sizeof(float));
  if (n == 0) return;
  const bool vec = aligned16(x, g, dx);
  qlaunch::launch_stride(pact_backward_kernel, n, vec, x, g, dx, n, alpha_p, dalpha_p, vec);
}

void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per) {
  if (channels == 0 || per == 0) return;
  if (per > kXnorWarpPer) {
    qlaunch::launch(xnor_forward_kernel, static_cast<unsigned>(channels), w, y, alpha, per);
    return;
  }
  const unsigned grid = static_cast<unsigned>((channels + kXnorWarps - 1) / kXnorWarps);
  auto run = [&](auto vec_tag) {
    constexpr bool kVec = decltype(vec_tag)::value;
    xnor_warp_dispatch<kVec>(per, [&](auto k) {
      qlaunch::launch(xnor_forward_warp_kernel<kVec, decltype(k)::value>, grid, w, y, alpha, channels, per);
    });
  };
  if (per % 4 == 0 && aligned16(w, y)) run(std::true_type{});
  else run(std::false_type{});
}

void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per) {
  if (channels == 0 || per == 0) return;
  if (per > kXnorWarpPer) {
    qlaunch::launch(xnor_backward_kernel, static_cast<unsigned>(channels), w, g, alpha, dw, per);
    return;
  }
  const unsigned grid = static_cast<unsigned>((channels + kXnorWarps - 1) / kXnorWarps);
  auto run = [&](auto vec_tag) {
    constexpr bool kVec = decltype(vec_tag)::value;
    xnor_warp_dispatch<kVec>(per, [&](auto k) {
      qlaunch::launch(xnor_backward_warp_kernel<kVec, decltype(k)::value>, grid, w, g, alpha, dw, channels, per);
    });
  };
  if (per % 4 == 0 && aligned16(w, g, dw)) run(std::true_type{});
  else run(std::false_type{});
}

void dorefa_w1_forward(const float* w, float* y, int64_t n, double* sum_abs) {
  if (n == 0) return;
  const bool vec = aligned16(w, y);
  qlaunch::zero_async(sum_abs, sizeof(double));
  qlaunch::launch_stride(sum_abs_kernel, n, vec, w, n, vec, sum_abs);
  qlaunch::launch_stride(dorefa_w1_forward_kernel, n, vec, w, y, n, vec, sum_abs);
}

void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats) {
  qlaunch::zero_async(stats, 2 * sizeof(float));
  if (n == 0) return;
  const bool vec = aligned16(w, y);
  qlaunch::launch_stride(max_abs_tanh_kernel, n, vec, w, n, vec, stats);
  qlaunch::launch_stride(dorefa_wk_forward_kernel, n, vec, w, y, n, vec, bits, stats);
}

void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats, double* scratch) {
  if (n == 0) return;
  const bool vec = aligned16(w, g, dw);
  qlaunch::zero_async(scratch, kMaxPathScratchWords * sizeof(double));
  qlaunch::launch_stride(dorefa_wk_backward_kernel, n, vec, w, g, dw, n, vec, stats, scratch);
  qlaunch::launch_fix_ties(w, g, dw, n, scratch, DorefaFixTie{stats, scratch});
}

}  // namespace lowbit::cuda::qbase
