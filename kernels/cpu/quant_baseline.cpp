// CPU loops of the baseline quantizers: one pass per direction, plus one statistic pass where a
// tensor-wide or per-channel value must exist first (XNOR α_c, DoReFa E or max|tanh w|).
#include "kernels/cpu/quant_baseline.h"

#include <cmath>

#include "kernels/quant/baseline_math.h"

namespace lowbit::cpu::qbase {

void ste_forward(const float* x, float* y, int64_t n, int bits, float lo) {
  for (int64_t i = 0; i < n; ++i) y[i] = basemath::ste_forward(x[i], bits, lo);
}

void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate) {
  for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * basemath::ste_backward(x[i], saturate);
}

void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per) {
  for (int64_t c = 0; c < channels; ++c) {
    const float* wc = w + c * per;
    double s = 0.0;
    for (int64_t j = 0; j < per; ++j) s += std::fabs(static_cast<double>(wc[j]));
    float a = static_cast<float>(s / static_cast<double>(per));
    alpha[c] = a;
    for (int64_t j = 0; j < per; ++j) y[c * per + j] = basemath::xnor_forward(wc[j], a);
  }
}

void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per) {
  for (int64_t c = 0; c < channels; ++c) {
    const float* wc = w + c * per;
    const float* gc = g + c * per;
    double s = 0.0;
    for (int64_t j = 0; j < per; ++j) s += basemath::xnor_s_term(wc[j], gc[j]);
    float s_over_n = static_cast<float>(s / static_cast<double>(per));
    for (int64_t j = 0; j < per; ++j) dw[c * per + j] = basemath::xnor_backward(wc[j], gc[j], alpha[c], s_over_n);
  }
}

void dorefa_w1_forward(const float* w, float* y, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(w[i]));
  float ev = n > 0 ? static_cast<float>(s / static_cast<double>(n)) : 0.f;
  for (int64_t i = 0; i < n; ++i) y[i] = basemath::dorefa_w1_forward(w[i], ev);
}

void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats) {
  float m = 0.f;
  for (int64_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(std::tanh(w[i])));
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (m > 0.f && std::fabs(std::tanh(w[i])) == m) ++count;
    y[i] = basemath::dorefa_wk_forward(w[i], m, bits);
  }
  stats[0] = m;
  stats[1] = static_cast<float>(count);
}

void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats) {
  float m = stats[0];
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += basemath::dorefa_wk_dm_term(w[i], g[i]);
  float dl_dm_over_count = m > 0.f ? static_cast<float>(-s / (static_cast<double>(m) * m) / stats[1]) : 0.f;
  for (int64_t i = 0; i < n; ++i)
    dw[i] = g[i] * basemath::dorefa_wk_direct(w[i], m) + basemath::dorefa_wk_max_path(w[i], m, dl_dm_over_count);
}

void dorefa_act_forward(const float* x, float* y, int64_t n, int bits) {
  for (int64_t i = 0; i < n; ++i) y[i] = basemath::dorefa_act_forward(x[i], bits);
}

void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * basemath::dorefa_act_backward(x[i]);
}

void pact_forward(const float* x, float* y, int64_t n, float alpha_p, int bits) {
  float alpha = std::fabs(alpha_p);
  for (int64_t i = 0; i < n; ++i) y[i] = basemath::pact_forward(x[i], alpha, bits);
}

void pact_backward(const float* x, const float* g, float* dx, int64_t n, float alpha_p, float* dalpha_p) {
  float alpha = std::fabs(alpha_p);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = g[i] * basemath::pact_backward(x[i], alpha);
    s += basemath::pact_alpha_term(x[i], g[i], alpha);
  }
  *dalpha_p = static_cast<float>(basemath::grad_sign(alpha_p) * s);
}

}  // namespace lowbit::cpu::qbase
