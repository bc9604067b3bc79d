// CUDA kernels of the SAT quantizers (per-element math: kernels/quant/sat_math.h).
// Napkin math (fp32, per element):
//   weight forward: max|tanh w| pass (read 4 B) + Σ Q, Σ Q², #max pass (read 4 B) + output pass
//     (read 4 B, write 4 B) = 16 B/element; floor 8 B + 4 per statistic pass. ~30 flops (2 tanh).
//   weight backward: Σ g·tanh w pass (read 8 B, autograd max path only) + output pass (read 8 B,
//     write 4 B) = 20 B/element (12 B with a constant M).
//   CG-PACT forward 8 B/element; backward 12 B/element with dα reduced in the same pass.
// Reductions: warp shuffle + shared memory per block, one atomic per block (double accumulators;
// the max as an atomicMax on the bits of a non-negative float). Grid-stride loops, float4 loads
// when every pointer is 16-byte aligned (kernels/cuda/quant_launch.cuh), on the current stream.
#include "kernels/cuda/quant_sat.h"

#include "kernels/cuda/quant_launch.cuh"
#include "kernels/quant/sat_math.h"

namespace lowbit::cuda {

namespace {

// M of a stats block, with the all-zero guard of the CPU loop.
__device__ __forceinline__ float stats_M(const float* stats) {
  const float M = stats[0];
  return M > 0.f ? M : 1.f;
}

// stats[0] (zeroed before) = max|tanh w| via atomicMax on the bits (valid for values >= 0).
__global__ void k_sat_absmax(const float* __restrict__ w, int64_t n, bool vec, float* stats) {
  float m = 0.f;
  qlaunch::visit1(w, n, vec, [&](float v) { m = fmaxf(m, quant::sat_abs_tanh(v)); });
  m = qlaunch::block_max_nonneg(m);
  if (threadIdx.x == 0) qlaunch::atomic_max_nonneg(stats, m);
}

// acc[0..2] (zeroed before) += Σ Q, Σ Q², #{|t| = M}.
__global__ void k_sat_qstats(const float* __restrict__ w, int64_t n, bool vec, int bits, int scheme,
                             const float* __restrict__ stats, double* acc) {
  const float M = stats_M(stats);
  double part[3] = {0.0, 0.0, 0.0};
  qlaunch::visit1(w, n, vec, [&](float x) {
    const double q = quant::sat_weight_Q(x, M, bits, scheme);
    part[0] += q;
    part[1] += q * q;
    part[2] += quant::sat_abs_tanh(x) == M ? 1.0 : 0.0;
  });
  qlaunch::block_sum_atomic<3>(part, acc);
}

// One thread: stats = {M, scale, k} from the accumulators (the CPU loop's formula).
struct SatFinalize {
  float* stats;
  const double* acc;
  int64_t n;
  bool rescale;
  int64_t n_out;
  __device__ void operator()() const {
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
};

__global__ void k_sat_forward(const float* __restrict__ w, float* __restrict__ y, int64_t n, bool vec, int bits,
                              int scheme, const float* __restrict__ stats) {
  const float M = stats[0], scale = stats[1];
  qlaunch::map1(w, y, n, vec, [&](float v) { return quant::sat_weight_Q(v, M, bits, scheme) * scale; });
}

// acc[0] (zeroed before) += Σ g·tanh(w).
__global__ void k_sat_gt(const float* __restrict__ g, const float* __restrict__ w, int64_t n, bool vec, double* acc) {
  double part[1] = {0.0};
  qlaunch::visit2(g, w, n, vec, [&](float gv, float wv) { part[0] += static_cast<double>(gv) * tanhf(wv); });
  qlaunch::block_sum_atomic<1>(part, acc);
}

// acc == nullptr: constant M (no max path).
__global__ void k_sat_backward(const float* __restrict__ g, const float* __restrict__ w, float* __restrict__ dx,
                               int64_t n, bool vec, const float* __restrict__ stats, const double* __restrict__ acc) {
  const float M = stats[0], scale = stats[1], k = stats[2];
  float share = 0.f;
  if (acc != nullptr && k > 0.f)
    share = static_cast<float>(-static_cast<double>(scale) * acc[0] / (static_cast<double>(M) * M) / k);
  qlaunch::map2(g, w, dx, n, vec, [&](float gv, float wv) { return quant::sat_weight_dx(gv, wv, M, scale, share); });
}

__global__ void k_cgpact_forward(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, int bits,
                                 const float* __restrict__ alpha_p) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  qlaunch::map1(x, y, n, vec, [&](float v) { return quant::cgpact_forward(v, alpha, steps); });
}

// dx, and acc[0] (zeroed before) += Σ calibrated clip gradient.
__global__ void k_cgpact_backward(const float* __restrict__ g, const float* __restrict__ x, float* __restrict__ dx,
                                  int64_t n, bool vec, int bits, const float* __restrict__ alpha_p, double* acc) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  double part[1] = {0.0};
  qlaunch::map2(g, x, dx, n, vec, [&](float gv, float xv) {
    part[0] += quant::cgpact_dalpha(gv, xv, alpha, steps);
    return quant::cgpact_dx(gv, xv, alpha);
  });
  qlaunch::block_sum_atomic<1>(part, acc);
}

// One thread: *dalpha_p = sign(α_p)·Σ.
struct CgpactFinalize {
  const double* acc;
  const float* alpha_p;
  float* dalpha_p;
  __device__ void operator()() const {
    const float a = *alpha_p;
    const double sgn = a > 0.f ? 1.0 : (a < 0.f ? -1.0 : 0.0);
    *dalpha_p = static_cast<float>(sgn * acc[0]);
  }
};

}  // namespace

void sat_weight_forward(const float* w, float* y, float* stats, double* work, int64_t n, int bits, int scheme,
                        bool rescale, int64_t n_out) {
  const bool vec = aligned16(w, y);
  qlaunch::zero_async(stats, 3 * sizeof(float));
  qlaunch::zero_async(work, 3 * sizeof(double));
  if (n == 0) {
    qlaunch::launch_one_thread(SatFinalize{stats, work, n, rescale, n_out});
    return;
  }
  const unsigned grid = qlaunch::grid_for(n, vec);
  qlaunch::launch(k_sat_absmax, grid, w, n, vec, stats);
  qlaunch::launch(k_sat_qstats, grid, w, n, vec, bits, scheme, stats, work);
  qlaunch::launch_one_thread(SatFinalize{stats, work, n, rescale, n_out});
  qlaunch::launch(k_sat_forward, grid, w, y, n, vec, bits, scheme, stats);
}

void sat_weight_backward(const float* g, const float* w, float* dx, const float* stats, double* work, int64_t n,
                         bool autograd_max) {
  if (n == 0) return;
  const bool vec = aligned16(g, w, dx);
  const unsigned grid = qlaunch::grid_for(n, vec);
  if (autograd_max) {
    qlaunch::zero_async(work, sizeof(double));
    qlaunch::launch(k_sat_gt, grid, g, w, n, vec, work);
  }
  qlaunch::launch(k_sat_backward, grid, g, w, dx, n, vec, stats, autograd_max ? work : nullptr);
}

void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  qlaunch::launch(k_cgpact_forward, qlaunch::grid_for(n, vec), x, y, n, vec, bits, alpha_p);
}

void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, double* work, int64_t n, int bits,
                     const float* alpha_p) {
  qlaunch::zero_async(work, sizeof(double));
  if (n > 0) {
    const bool vec = aligned16(g, x, dx);
    qlaunch::launch(k_cgpact_backward, qlaunch::grid_for(n, vec), g, x, dx, n, vec, bits, alpha_p, work);
  }
  qlaunch::launch_one_thread(CgpactFinalize{work, alpha_p, dalpha_p});
}

}  // namespace lowbit::cuda
