// CPU loops of the SAT quantizers. Weights: forward = two statistic passes (max|tanh w|, then
// Σ Q, Σ Q² and the count of max elements) + one output pass; backward = one Σ g·t pass (autograd
// max path only) + one output pass. CG-PACT: one pass each way. Memory-bound: 8 B/element
// forward (plus 4 per statistic pass), 12 B/element backward; the weight passes are bound by tanhf.
// Threads, vectorization and the reproducible sums: kernels/cpu/quant_loop.h.
#include "kernels/cpu/quant_sat.h"

#include <cmath>

#include "kernels/cpu/quant_loop.h"
#include "kernels/quant/sat_math.h"

namespace lowbit::cpu {

void sat_weight_stats(const float* w, int64_t n, int bits, int scheme, bool rescale, int64_t n_out, float* stats) {
  float M = qloop::max_of(n, qloop::kTranscendental, [=](int64_t i) { return quant::sat_abs_tanh(w[i]); });
  if (!(M > 0.f)) M = 1.f;  // an all-zero tensor: t/M = 0 (torch would give NaN)
  const auto sums = qloop::reduce<2, 3>(
      n, qloop::kTranscendental,
      [=](int64_t i) {
        return std::array<float, 2>{quant::sat_weight_Q(w[i], M, bits, scheme),
                                    quant::sat_abs_tanh(w[i]) == M ? 1.f : 0.f};
      },
      [](const std::array<float, 2>& t, std::array<double, 3>& acc) {
        const double q = t[0];
        acc[0] += q;
        acc[1] += q * q;
        acc[2] += t[1];
      });
  const double s = sums[0], s2 = sums[1], k = sums[2];
  double scale = 1.0;
  if (rescale) {
    double var = n > 1 ? (s2 - s * s / static_cast<double>(n)) / static_cast<double>(n - 1) : 0.0;
    double sd = var > 0.0 ? std::sqrt(var) : 1.0;
    scale = 1.0 / (std::sqrt(static_cast<double>(n_out)) * sd);
  }
  stats[0] = M;
  stats[1] = static_cast<float>(scale);
  stats[2] = static_cast<float>(k);
}

void sat_weight_forward(const float* w, float* y, int64_t n, int bits, int scheme, const float* stats) {
  const float M = stats[0], scale = stats[1];
  qloop::for_each(n, qloop::kTranscendental,
                  [=](int64_t i) { y[i] = quant::sat_weight_Q(w[i], M, bits, scheme) * scale; });
}

void sat_weight_backward(const float* g, const float* w, float* dx, int64_t n, const float* stats, bool autograd_max) {
  const float M = stats[0], scale = stats[1], k = stats[2];
  float max_share = 0.f;
  if (autograd_max && k > 0.f) {
    const auto gt = qloop::reduce<2, 1>(
        n, qloop::kTranscendental, [=](int64_t i) { return std::array<float, 2>{g[i], std::tanh(w[i])}; },
        [](const std::array<float, 2>& t, std::array<double, 1>& acc) {
          acc[0] += static_cast<double>(t[0]) * static_cast<double>(t[1]);
        });
    max_share = static_cast<float>(-static_cast<double>(scale) * gt[0] / (static_cast<double>(M) * M) / k);
  }
  qloop::for_each(n, qloop::kTranscendental,
                  [=](int64_t i) { dx[i] = quant::sat_weight_dx(g[i], w[i], M, scale, max_share); });
}

void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p) {
  const float alpha = std::fabs(*alpha_p), steps = quant::sat_act_steps(bits);
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = quant::cgpact_forward(x[i], alpha, steps); });
}

void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, int64_t n, int bits,
                     const float* alpha_p) {
  const float alpha = std::fabs(*alpha_p), steps = quant::sat_act_steps(bits);
  const auto da = qloop::sum<1>(n, qloop::kCheap, [=](int64_t i) {
    dx[i] = quant::cgpact_dx(g[i], x[i], alpha);
    return std::array<float, 1>{quant::cgpact_dalpha(g[i], x[i], alpha, steps)};
  });
  const double sgn = *alpha_p > 0.f ? 1.0 : (*alpha_p < 0.f ? -1.0 : 0.0);
  *dalpha_p = static_cast<float>(sgn * da[0]);
}

}  // namespace lowbit::cpu
