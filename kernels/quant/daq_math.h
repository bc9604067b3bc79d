// DAQ (distance-aware quantization, spec §3) per-element math, shared by the CPU loops and the
// CUDA kernels (LOWBIT_HD). Conventions (tests/data/vectors/README.md, DAQ):
//   x̂ = (x − mean)/std for weights (mean, unbiased std of the whole tensor, detached); x̂ = x for
//   activations (l ≡ 0). Δ = (u − l)/B, B = 2^bits − 1, t = (x̂ − l)/Δ, inside mask 0 ≤ t ≤ B
//   (inclusive), F = floor(clamp(t, 0, B)), f = t − F.
//   Train forward: the soft rounding with β* = γ/|s0 − s1| and the output shift c = 1/(e^γ − 1)
//   equals the hard rounding exactly (p(nearest) = e^γ/(1 + e^γ) always), so the kernels compute
//   the level as F + [f > ½] (ties f = ½ go DOWN: argmax picks the first index). daq_soft_frac
//   below is the soft path itself; the tests check it equals the hard rounding.
//   Backward: the closed form of spec §3.2, ∂ŷ/∂f = P·(a + b)/|a − b| with a = k0·e^{−f},
//   b = k1·e^{f−1}, P = γe^γ/(e^{2γ} − 1), kernel values (k0, k1) = (1, e^{−1/σ²}) for f ≤ ½ and
//   swapped otherwise (it includes the custom |z|' = +1 at z = 0, which matters at f = 0).
//   Eval: the official w_quan/a_quan: t = (clip(x̂, l, u) − l)/Δ, level = floor(t) + rint(frac).
//   De-normalization: weights (2·level − B)/B ∈ [−1, 1], activations level/B ∈ [0, 1].
#pragma once

#include <cmath>
#include <cstdint>

#include "core/hd.h"

namespace lowbit {

// Per-call constants, computed on the host from (bits, γ, σ, target) by daq_consts().
struct DaqConsts {
  float B;          // 2^bits − 1
  float k_far;      // e^{−1/σ²}: the kernel value of the far neighbour
  float prefactor;  // P = γ·e^γ/(e^{2γ} − 1)
  float gamma;      // γ (soft path only)
  bool weight;      // weight target (standardized, signed output) vs activation
};

inline DaqConsts daq_consts(int bits, double gamma, double sigma, bool weight) {
  double eg = std::exp(gamma);
  return DaqConsts{static_cast<float>((1 << bits) - 1), static_cast<float>(std::exp(-1.0 / (sigma * sigma))),
                   static_cast<float>(gamma * eg / (eg * eg - 1.0)), static_cast<float>(gamma), weight};
}

// ---- weight standardization statistics ----
// Shifted sums s1 = Σ(w − shift), s2 = Σ(w − shift)² (accumulated in double; shift = w[0] limits
// cancellation) -> mean and unbiased std as float. n ≥ 2.
LOWBIT_HD void daq_finish_stats(double n, double shift, double s1, double s2, float* mean, float* std) {
  double d = s1 / n;
  double var = (s2 - s1 * d) / (n - 1.0);
  *mean = static_cast<float>(shift + d);
  *std = static_cast<float>(::sqrt(var > 0.0 ? var : 0.0));
}

// x̂: the standardized weight (activations pass through).
LOWBIT_HD float daq_standardize(float x, float mean, float std) { return (x - mean) / std; }

// ---- forward ----
// Unclamped t = (x̂ − l)/Δ (division, so dyadic ties stay exact).
LOWBIT_HD float daq_t(float xh, float l, float delta) { return (xh - l) / delta; }
LOWBIT_HD bool daq_inside(float t, float B) { return t >= 0.f && t <= B; }

// Train-mode level: F + [f > ½] on the clamped t (the value of the soft path).
LOWBIT_HD float daq_train_level(float t, float B) {
  float tc = t < 0.f ? 0.f : (t > B ? B : t);
  float F = ::floorf(tc);
  return F + (tc - F > 0.5f ? 1.f : 0.f);
}

// Eval-mode level (official code): clip x̂ to [l, u] first, then floor + rint(frac).
LOWBIT_HD float daq_eval_level(float xh, float l, float u, float delta) {
  float xc = xh < l ? l : (xh > u ? u : xh);
  float t = (xc - l) / delta;
  float F = ::floorf(t);
  return F + ::nearbyintf(t - F);
}

// Level -> output value.
LOWBIT_HD float daq_output(float level, const DaqConsts& k) {
  return k.weight ? (2.f * level - k.B) / k.B : level / k.B;
}

// The soft path of the training forward, ŷ ∈ [0, 1] for a fraction f ∈ [0, 1): distance
// similarities m_i = e^{−|f − i|}, Gaussian kernel around the nearest level, β* = γ/|s0 − s1|,
// p = softmax(β*·s), ŷ = −c·p0 + (1 + c)·p1. Mathematically ŷ = [f > ½] exactly.
LOWBIT_HD float daq_soft_frac(float f, const DaqConsts& k) {
  float m0 = ::expf(-f), m1 = ::expf(-(1.f - f));
  bool near0 = m0 >= m1;  // argmax: first index on ties
  float s0 = m0 * (near0 ? 1.f : k.k_far), s1 = m1 * (near0 ? k.k_far : 1.f);
  float beta = k.gamma / ::fabsf(s0 - s1);
  float p1 = 1.f / (1.f + ::expf(beta * (s0 - s1)));
  float c = 1.f / (::expf(k.gamma) - 1.f);
  return -c * (1.f - p1) + (1.f + c) * p1;
}

// ---- backward ----
// ∂ŷ/∂f, closed form (spec §3.2).
LOWBIT_HD float daq_dyhat_df(float f, const DaqConsts& k) {
  bool low = f <= 0.5f;
  float a = (low ? 1.f : k.k_far) * ::expf(-f);
  float b = (low ? k.k_far : 1.f) * ::expf(f - 1.f);
  return k.prefactor * (a + b) / ::fabsf(a - b);
}

// Per-element backward. x̂ = xh, g = ∂L/∂y. Writes ∂L/∂x̂ (before the 1/std of the weight
// standardization) and the element's contributions to ∂L/∂l and ∂L/∂u. Outside the clamp mask
// all three are 0.
struct DaqGrad {
  float dxh, dl, du;
};
LOWBIT_HD DaqGrad daq_backward_elem(float xh, float g, float l, float u, const DaqConsts& k) {
  float r = u - l;
  float t = daq_t(xh, l, r / k.B);
  if (!daq_inside(t, k.B) || g == 0.f) return DaqGrad{0.f, 0.f, 0.f};
  float F = ::floorf(t);
  float g_level = g * (k.weight ? 2.f : 1.f) / k.B;
  float gt = g_level * daq_dyhat_df(t - F, k);  // ∂L/∂t
  // ∂t/∂x̂ = B/r, ∂t/∂u = −t/r, ∂t/∂l = (t − B)/r
  return DaqGrad{gt * k.B / r, gt * (t - k.B) / r, -gt * t / r};
}

}  // namespace lowbit
