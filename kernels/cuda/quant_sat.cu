// CUDA kernels of the SAT quantizers (per-element math: kernels/quant/sat_math.h).
// Napkin math (fp32, per element):
//   weight forward: max|tanh w| pass (read 4 B) + Σ Q, Σ Q², #max pass (read 4 B) + output pass
//     (read 4 B, write 4 B) = 16 B/element; floor 8 B + 4 per statistic pass. One tanh per
//     element per pass (~17 instructions, 2 MUFU); the divisions by M and 2^b use per-thread
//     reciprocals (kernels/quant/exact_div.h, the same quotients).
//   weight backward: one pass (read g and w, write dx) = 12 B/element; with the autograd max path
//     it also sums Σ g·tanh w and records the elements with |tanh w| = M, whose dx a fixup kernel
//     rewrites afterwards (kernels/cuda/quant_ties.h; no second pass over the tensor).
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

// acc[0..2] (zeroed before) += Σ Q, Σ Q², #{|t| = M} for the original scheme; for the dyadic ones
// (modified, centered) Σ k, Σ k², #{|t| = M} over the level indices k (SatFinalize turns them into
// Σ Q, Σ Q², exactly: kernels/quant/sat_math.h). Those are small integers, summed exactly in f32
// over runs of 64 elements (Σ k² ≤ 64·255² < 2^24) and then in double: no f32 -> f64 conversion and
// no f64 arithmetic per element, which made this pass compute-bound.
__global__ void k_sat_qstats(const float* __restrict__ w, int64_t n, bool vec, int bits, int scheme,
                             const float* __restrict__ stats, double* acc) {
  const float M = stats_M(stats);
  const auto dv = quant::sat_divisors<ExactDivisor>(M, bits);
  double part[3] = {0.0, 0.0, 0.0};
  if (scheme == static_cast<int>(quant::SatScheme::original)) {
    qlaunch::visit1(w, n, vec, [&](float x) {
      const double q = quant::sat_weight_Q(x, bits, scheme, dv);
      part[0] += q;
      part[1] += q * q;
      part[2] += quant::sat_abs_tanh(x) == M ? 1.0 : 0.0;
    });
  } else {
    float sk = 0.f, sk2 = 0.f, ties = 0.f;
    int run = 0;
    qlaunch::visit1(w, n, vec, [&](float x) {
      const float k = quant::sat_weight_k(quant::sat_weight_u(x, dv), bits);
      sk += k;
      sk2 += k * k;
      ties += quant::sat_abs_tanh(x) == M ? 1.f : 0.f;
      if (++run == 64) {
        part[0] += sk;
        part[1] += sk2;
        part[2] += ties;
        sk = sk2 = ties = 0.f;
        run = 0;
      }
    });
    part[0] += sk;
    part[1] += sk2;
    part[2] += ties;
  }
  qlaunch::block_sum_atomic<3>(part, acc);
}

// One thread: stats = {M, scale, k} from the accumulators (the CPU loop's formula).
struct SatFinalize {
  float* stats;
  const double* acc;
  int64_t n;
  bool rescale;
  int64_t n_out;
  int bits, scheme;
  __device__ void operator()() const {
    double scale = 1.0;
    if (rescale) {
      double s = acc[0], s2 = acc[1];
      if (scheme != static_cast<int>(quant::SatScheme::original))
        quant::sat_q_sums_from_levels(static_cast<double>(n), acc[0], acc[1], bits, scheme, &s, &s2);
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
  const float scale = stats[1];
  const auto dv = quant::sat_divisors<ExactDivisor>(stats[0], bits);
  qlaunch::map1(w, y, n, vec, [&](float v) { return quant::sat_weight_Q(v, bits, scheme, dv) * scale; });
}

// dx without the max path, plus (work != nullptr: autograd max path) work[0] (zeroed before) +=
// Σ g·tanh(w) and the tie list of the elements with |tanh w| = M; SatFixTie finishes those.
__global__ void k_sat_backward(const float* __restrict__ g, const float* __restrict__ w, float* __restrict__ dx,
                               int64_t n, bool vec, const float* __restrict__ stats, double* work) {
  const float M = stats[0], scale = stats[1];
  const ExactDivisor by_M(M);
  if (work == nullptr) {
    qlaunch::map2(g, w, dx, n, vec,
                  [&](float gv, float wv) { return quant::sat_weight_dx(gv, wv, M, by_M, scale, 0.f); });
    return;
  }
  unsigned long long* ties = qlaunch::tie_list(work);
  double part[1] = {0.0};
  qlaunch::map2i(g, w, dx, n, vec, [&](int64_t i, float gv, float wv) {
    const float t = tanhf(wv);
    part[0] += static_cast<double>(gv) * t;
    if (fabsf(t) == M) qlaunch::record_tie(ties, i);
    return quant::sat_weight_dx(gv, wv, M, by_M, scale, 0.f);
  });
  qlaunch::block_sum_atomic<1>(part, work);
}

// The max-path elements' dx (the formula of the unfused backward): share = dL/dM / k.
struct SatFixTie {
  const float* stats;
  const double* work;
  float M = 0.f, scale = 0.f, share = 0.f;
  __device__ void prepare() {
    M = stats[0];
    scale = stats[1];
    const float k = stats[2];
    share = k > 0.f ? static_cast<float>(-static_cast<double>(scale) * work[0] / (static_cast<double>(M) * M) / k)
                    : 0.f;
  }
  __device__ bool is_tie(float, float wv) const { return fabsf(tanhf(wv)) == M; }
  __device__ float operator()(float gv, float wv) const { return quant::sat_weight_dx(gv, wv, M, scale, share); }
};

__global__ void k_cgpact_forward(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, int bits,
                                 const float* __restrict__ alpha_p) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  const ExactDivisor by_alpha(alpha), by_steps(steps);
  qlaunch::map1(x, y, n, vec, [&](float v) { return quant::cgpact_forward(v, alpha, by_alpha, steps, by_steps); });
}

// dx, and acc[0] (zeroed before) += Σ calibrated clip gradient.
__global__ void k_cgpact_backward(const float* __restrict__ g, const float* __restrict__ x, float* __restrict__ dx,
                                  int64_t n, bool vec, int bits, const float* __restrict__ alpha_p, double* acc) {
  const float alpha = fabsf(*alpha_p), steps = quant::sat_act_steps(bits);
  const ExactDivisor by_alpha(alpha), by_steps(steps);
  double part[1] = {0.0};
  qlaunch::map2(g, x, dx, n, vec, [&](float gv, float xv) {
    part[0] += quant::cgpact_dalpha(gv, xv, alpha, by_alpha, steps, by_steps);
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
    qlaunch::launch_one_thread(SatFinalize{stats, work, n, rescale, n_out, bits, scheme});
    return;
  }
  qlaunch::launch_stride(k_sat_absmax, n, vec, w, n, vec, stats);
  qlaunch::launch_stride(k_sat_qstats, n, vec, w, n, vec, bits, scheme, stats, work);
  qlaunch::launch_one_thread(SatFinalize{stats, work, n, rescale, n_out, bits, scheme});
  qlaunch::launch_stride(k_sat_forward, n, vec, w, y, n, vec, bits, scheme, stats);
}

void sat_weight_backward(const float* g, const float* w, float* dx, const float* stats, double* work, int64_t n,
                         bool autograd_max) {
  if (n == 0) return;
  const bool vec = aligned16(g, w, dx);
  if (autograd_max) qlaunch::zero_async(work, kMaxPathScratchWords * sizeof(double));
  qlaunch::launch_stride(k_sat_backward, n, vec, g, w, dx, n, vec, stats, autograd_max ? work : nullptr);
  if (autograd_max) qlaunch::launch_fix_ties(g, w, dx, n, work, SatFixTie{stats, work});
}

void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  qlaunch::launch_stride(k_cgpact_forward, n, vec, x, y, n, vec, bits, alpha_p);
}

void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, double* work, int64_t n, int bits,
                     const float* alpha_p) {
  qlaunch::zero_async(work, sizeof(double));
  if (n > 0) {
    const bool vec = aligned16(g, x, dx);
    qlaunch::launch_stride(k_cgpact_backward, n, vec, g, x, dx, n, vec, bits, alpha_p, work);
  }
  qlaunch::launch_one_thread(CgpactFinalize{work, alpha_p, dalpha_p});
}

}  // namespace lowbit::cuda
