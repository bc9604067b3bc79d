// CPU loops of the baseline quantizers: one pass per direction, plus one statistic pass where a
// tensor-wide or per-channel value must exist first (XNOR α_c, DoReFa E or max|tanh w|).
// Threads, vectorization and the reproducible sums: kernels/cpu/quant_loop.h (XNOR's per-channel
// sums: the channels are shared by threads, each channel summed by one in lanes).
#include "kernels/cpu/quant_baseline.h"

#include <cmath>

#include "kernels/cpu/quant_loop.h"
#include "kernels/quant/baseline_math.h"

namespace lowbit::cpu::qbase {

void ste_forward(const float* x, float* y, int64_t n, int bits, float lo) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = basemath::ste_forward(x[i], bits, lo); });
}

void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { dx[i] = g[i] * basemath::ste_backward(x[i], saturate); });
}

void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per) {
  parallel_rows(channels, 1, channels * per, 0, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* wc = w + c * per;
      float* yc = y + c * per;
      auto terms = [=](int64_t j) { return std::array<float, 1>{std::fabs(wc[j])}; };
      qloop::SumFold<1> fold;
      const double s = qloop::reduce_range<1, 1>(0, per, terms, fold)[0];
      const float a = static_cast<float>(s / static_cast<double>(per));
      alpha[c] = a;
      auto out = [=](int64_t j) { yc[j] = basemath::xnor_forward(wc[j], a); };
      qloop::detail::each(0, per, out);
    }
  });
}

void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per) {
  parallel_rows(channels, 1, channels * per, 0, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* wc = w + c * per;
      const float* gc = g + c * per;
      float* dc = dw + c * per;
      auto terms = [=](int64_t j) { return std::array<float, 1>{basemath::xnor_s_term(wc[j], gc[j])}; };
      qloop::SumFold<1> fold;
      const double s = qloop::reduce_range<1, 1>(0, per, terms, fold)[0];
      const float s_over_n = static_cast<float>(s / static_cast<double>(per)), a = alpha[c];
      auto out = [=](int64_t j) { dc[j] = basemath::xnor_backward(wc[j], gc[j], a, s_over_n); };
      qloop::detail::each(0, per, out);
    }
  });
}

void dorefa_w1_forward(const float* w, float* y, int64_t n) {
  const double s = qloop::sum<1>(n, qloop::kCheap, [=](int64_t i) { return std::array<float, 1>{std::fabs(w[i])}; })[0];
  const float ev = n > 0 ? static_cast<float>(s / static_cast<double>(n)) : 0.f;
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = basemath::dorefa_w1_forward(w[i], ev); });
}

void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats) {
  const float m = qloop::max_of(n, qloop::kTranscendental, [=](int64_t i) { return std::fabs(std::tanh(w[i])); });
  const double count = qloop::sum<1>(n, qloop::kTranscendental, [=](int64_t i) {
    const float wi = w[i];  // (read once: y may alias w, and GCC then calls tanhf once)
    y[i] = basemath::dorefa_wk_forward(wi, m, bits);
    return std::array<float, 1>{m > 0.f && std::fabs(std::tanh(wi)) == m ? 1.f : 0.f};
  })[0];
  stats[0] = m;
  stats[1] = static_cast<float>(count);
}

void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats) {
  const float m = stats[0];
  const double s =
      qloop::sum<1>(n, qloop::kTranscendental,
                    [=](int64_t i) { return std::array<float, 1>{basemath::dorefa_wk_dm_term(w[i], g[i])}; })[0];
  const float dl_dm_over_count = m > 0.f ? static_cast<float>(-s / (static_cast<double>(m) * m) / stats[1]) : 0.f;
  qloop::for_each(n, qloop::kTranscendental, [=](int64_t i) {
    dw[i] = g[i] * basemath::dorefa_wk_direct(w[i], m) + basemath::dorefa_wk_max_path(w[i], m, dl_dm_over_count);
  });
}

void dorefa_act_forward(const float* x, float* y, int64_t n, int bits) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = basemath::dorefa_act_forward(x[i], bits); });
}

void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { dx[i] = g[i] * basemath::dorefa_act_backward(x[i]); });
}

void pact_forward(const float* x, float* y, int64_t n, float alpha_p, int bits) {
  const float alpha = std::fabs(alpha_p);
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = basemath::pact_forward(x[i], alpha, bits); });
}

void pact_backward(const float* x, const float* g, float* dx, int64_t n, float alpha_p, float* dalpha_p) {
  const float alpha = std::fabs(alpha_p);
  const double s = qloop::sum<1>(n, qloop::kCheap, [=](int64_t i) {
    dx[i] = g[i] * basemath::pact_backward(x[i], alpha);
    return std::array<float, 1>{basemath::pact_alpha_term(x[i], g[i], alpha)};
  })[0];
  *dalpha_p = static_cast<float>(basemath::grad_sign(alpha_p) * s);
}

}  // namespace lowbit::cpu::qbase
