// Per-element math of the baseline quantizers (spec §6): STE / saturating STE, BNN sign,
// XNOR-Net weights, DoReFa weights and activations, PACT. Written once for host and device
// (LOWBIT_HD) and used by kernels/cpu/quant_baseline.cpp and kernels/cuda/quant_baseline.cu.
// Conventions (tests/data/vectors/README.md): rounding half to even (nearbyintf); the binarizing
// sign maps 0 to +1; sign() inside gradient formulas keeps sign(0) = 0; clamp masks include both
// bounds; PACT's dx mask is strict at both ends (0 < x < α).
#pragma once

#include <cmath>

#include "core/hd.h"
#include "kernels/quant/exact_div.h"

namespace lowbit::basemath {

// Number of steps of a b-bit uniform quantizer: 2^b − 1.
LOWBIT_HD float levels_minus_one(int bits) { return static_cast<float>((1 << bits) - 1); }

// Binarizing sign: +1 for x ≥ 0 (bit 0 of a packed tensor), −1 otherwise.
LOWBIT_HD float binarize(float x) { return x < 0.f ? -1.f : 1.f; }
// sign() of gradient formulas (d|x|/dx): 0 at 0.
LOWBIT_HD float grad_sign(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); }

// quantize_k(r) = round_half_even(n·r)/n with n = 2^k − 1. Divisors shared by all elements are
// passed as D = float or ExactDivisor (kernels/quant/exact_div.h: the same quotient, cheaper).
template <class D>
LOWBIT_HD float quantize_unit(float r, float n, const D& by_n) {
  return divide(nearbyintf(r * n), by_n);
}
LOWBIT_HD float quantize_unit(float r, float n) { return quantize_unit(r, n, n); }

// ---- STE: bits = 1 -> binarizing sign; bits ≥ 2 -> uniform levels on [lo, 1] (lo = 0 for
// activations, −1 for weights): y = lo + (1 − lo)·quantize_b((clamp(x, lo, 1) − lo)/(1 − lo)).
LOWBIT_HD float ste_forward(float x, int bits, float lo) {
  if (bits == 1) return binarize(x);
  float c = fminf(fmaxf(x, lo), 1.f);
  float span = 1.f - lo;
  return lo + span * quantize_unit((c - lo) / span, levels_minus_one(bits));
}
// Backward factor: identity (plain STE) or 1{|x| ≤ 1} (saturating STE, BNN).
LOWBIT_HD float ste_backward(float x, bool saturate) { return (!saturate || fabsf(x) <= 1.f) ? 1.f : 0.f; }

// ---- XNOR-Net weights (per output channel c with n elements, α_c = mean|W_c|):
// y = α_c·b(W); dW = α_c·g·1{|W| ≤ 1} + sign(W)·S_c/n with S_c = Σ_{j∈c} g_j·b(W_j).
LOWBIT_HD float xnor_forward(float w, float alpha) { return alpha * binarize(w); }
LOWBIT_HD float xnor_backward(float w, float g, float alpha, float s_over_n) {
  return (fabsf(w) <= 1.f ? alpha * g : 0.f) + grad_sign(w) * s_over_n;
}
// The per-element term of S_c.
LOWBIT_HD float xnor_s_term(float w, float g) { return g * binarize(w); }

// ---- DoReFa weights, k = 1: y = E·b(w), E = mean|w| (detached); dx = g.
LOWBIT_HD float dorefa_w1_forward(float w, float e) { return e * binarize(w); }
// k ≥ 2, with t = tanh(w), M = max|tanh w| over the tensor: y = 2·quantize_k(t/(2M) + ½) − 1.
// M = 0 (all-zero tensor) is read as u = ½ for every element.
// by_2m divides by 2M, by_n by n = 2^k − 1.
template <class D>
LOWBIT_HD float dorefa_wk_forward_by(float w, float m, const D& by_2m, float n, const D& by_n) {
  float u = m > 0.f ? divide(tanhf(w), by_2m) + 0.5f : 0.5f;
  return 2.f * quantize_unit(u, n, by_n) - 1.f;
}
LOWBIT_HD float dorefa_wk_forward(float w, float m, int bits) {
  const float n = levels_minus_one(bits);
  return dorefa_wk_forward_by(w, m, 2.f * m, n, n);
}
// Direct path of the backward: ∂y/∂w = (1 − t²)/M (identity STE through the rounding).
template <class D>
LOWBIT_HD float dorefa_wk_direct(float w, float m, const D& by_m) {
  float t = tanhf(w);
  return m > 0.f ? divide(1.f - t * t, by_m) : 0.f;
}
LOWBIT_HD float dorefa_wk_direct(float w, float m) { return dorefa_wk_direct(w, m, m); }
// The element's term of dL/dM = −Σ g·t/M².
LOWBIT_HD float dorefa_wk_dm_term(float w, float g) { return g * tanhf(w); }
// Max path: an element attaining M (|t| == M) receives sign(t)·(1 − t²)·dL/dM/count (ties share
// evenly, torch semantics). dl_dm = −(Σ g·t)/M².
LOWBIT_HD float dorefa_wk_max_path(float w, float m, float dl_dm_over_count) {
  float t = tanhf(w);
  return (m > 0.f && fabsf(t) == m) ? grad_sign(t) * (1.f - t * t) * dl_dm_over_count : 0.f;
}

// ---- DoReFa activations: y = quantize_k(clamp(x, 0, 1)); dx = g·1{0 ≤ x ≤ 1}.
LOWBIT_HD float dorefa_act_forward(float x, int bits) {
  return quantize_unit(fminf(fmaxf(x, 0.f), 1.f), levels_minus_one(bits));
}
LOWBIT_HD float dorefa_act_backward(float x) { return (x >= 0.f && x <= 1.f) ? 1.f : 0.f; }

// ---- PACT with α = |α_p|: y = α·round_half_even(n·min(relu(x), α)/α)/n;
// dx = g·1{0 < x < α}; the element's dα term is g·1{x ≥ α} (times sign(α_p), applied once).
template <class D>
LOWBIT_HD float pact_forward_by(float x, float alpha, const D& by_alpha, float n, const D& by_n) {
  float c = x > 0.f ? (x < alpha ? x : alpha) : 0.f;
  return divide(alpha * nearbyintf(n * divide(c, by_alpha)), by_n);
}
LOWBIT_HD float pact_forward(float x, float alpha, int bits) {
  const float n = levels_minus_one(bits);
  return pact_forward_by(x, alpha, alpha, n, n);
}
LOWBIT_HD float pact_backward(float x, float alpha) { return (x > 0.f && x < alpha) ? 1.f : 0.f; }
LOWBIT_HD float pact_alpha_term(float x, float g, float alpha) { return x >= alpha ? g : 0.f; }

}  // namespace lowbit::basemath
