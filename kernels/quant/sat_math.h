// SAT per-element math (spec §4.2–4.3), shared by the CPU loops (kernels/cpu/quant_sat.cpp) and the
// CUDA kernels (kernels/cuda/quant_sat.cu).
//
// Weights (DoReFa tanh clamp + SAT constant rescaling):
//   t = tanh(w), M = max|t| over the tensor, u = (t/M + 1)/2,
//   q = original: rint((2^b−1)u)/(2^b−1) | modified: min(floor(2^b u), 2^b−1)/2^b
//     | centered: (min(floor(2^b u), 2^b−1) + ½)/2^b,   (STE: dq/du = 1)
//   Q = 2q − 1, y = Q·scale with scale = 1/(√n_out·std(Q)) (std unbiased, detached) or 1.
//   dx = g·scale·(1 − t²)/M  [+ for max_grad = autograd, on the element(s) with |t| = M, shared
//   evenly over k ties: sign(t)(1 − t²)·dL/dM/k with dL/dM = −scale·Σ_j g_j t_j / M²].
// Activations (CG-PACT): α = |α_p|, x_c = min(relu(x), α), y = α·rint((2^b−1)x_c/α)/(2^b−1);
//   dx = g·1{0 < x < α} (strict, AdaBits); dα_p = sign(α_p)·Σ g·{1 if x ≥ α; 0 if x ≤ 0;
//   q(x/α) − x/α otherwise} (the SAT calibration).
// The operation order follows the golden vectors (t/M by division, x_c/α then ·(2^b−1)), so that
// the dyadic ties and the max element (t/M = ±1 exactly) land exactly in float32 too.
#pragma once

#include <math.h>

#include "core/hd.h"
#include "kernels/quant/exact_div.h"

namespace lowbit::quant {

enum class SatScheme : int { original = 0, modified = 1, centered = 2 };
enum class SatMaxGrad : int { autograd = 0, constant = 1 };

// |tanh(w)|: the quantity whose tensor-wide max is M.
LOWBIT_HD float sat_abs_tanh(float w) { return fabsf(tanhf(w)); }

// The divisors shared by every element (M, 2^b, 2^b − 1) are passed as D = float or ExactDivisor
// (kernels/quant/exact_div.h: the same quotient, cheaper on the device).
template <class D>
struct SatDivisors {
  D M, n, m;  // M = max|tanh w|, n = 2^b, m = 2^b − 1
};
template <class D>
LOWBIT_HD SatDivisors<D> sat_divisors(float M, int bits) {
  const float n = static_cast<float>(1 << bits);
  return SatDivisors<D>{D(M), D(n), D(n - 1.f)};
}

// u = (t/M + 1)/2 in [0, 1] for weight w, t = tanh(w), M = max|tanh w| > 0 (dv.M).
template <class D>
LOWBIT_HD float sat_weight_u(float w, const SatDivisors<D>& dv) {
  return (divide(tanhf(w), dv.M) + 1.f) * 0.5f;
}

// The level index of the dyadic schemes (modified, centered): k = min(floor(2^b u), 2^b − 1), an
// integer in [0, 2^b), with q = k/2^b (modified) or (k + ½)/2^b (centered).
LOWBIT_HD float sat_weight_k(float u, int bits) {
  const float n = static_cast<float>(1 << bits);  // 2^b
  return fminf(floorf(n * u), n - 1.f);
}

// q(u) in [0, 1] for u in [0, 1].
template <class D>
LOWBIT_HD float sat_weight_level(float u, int bits, int scheme, const SatDivisors<D>& dv) {
  if (scheme == static_cast<int>(SatScheme::original)) {
    const float m = static_cast<float>(1 << bits) - 1.f;
    return divide(nearbyintf(m * u), dv.m);
  }
  const float k = sat_weight_k(u, bits);
  return divide(scheme == static_cast<int>(SatScheme::modified) ? k : k + 0.5f, dv.n);
}
LOWBIT_HD float sat_weight_level(float u, int bits, int scheme) {
  return sat_weight_level(u, bits, scheme, sat_divisors<float>(1.f, bits));
}

// Q = 2q − 1 (unscaled) for weight w, given M = max|tanh w| > 0 (dv.M).
template <class D>
LOWBIT_HD float sat_weight_Q(float w, int bits, int scheme, const SatDivisors<D>& dv) {
  return 2.f * sat_weight_level(sat_weight_u(w, dv), bits, scheme, dv) - 1.f;
}

// Σ Q and Σ Q² over N elements from their level indices' sums sk = Σ k, sk2 = Σ k², for the
// dyadic schemes: Q = 2q − 1 = (2k + c)/n exactly in f32 (n = 2^b; c = −n modified, 1 − n
// centered), so Σ Q = (2·sk + c·N)/n and Σ Q² = (4·sk2 + 4c·sk + c²·N)/n². Every term is an
// integer below 2^53 (N < 2^31, b ≤ 8) and n a power of two: both are exact in double, as is the
// direct double sum of the f32 Q values (Q a multiple of 2^−b, Q² of 2^−2b, |sums| ≤ N).
LOWBIT_HD void sat_q_sums_from_levels(double N, double sk, double sk2, int bits, int scheme, double* sum_q,
                                      double* sum_q2) {
  const double n = static_cast<double>(1 << bits);
  const double c = scheme == static_cast<int>(SatScheme::modified) ? -n : 1.0 - n;
  *sum_q = (2.0 * sk + c * N) / n;
  *sum_q2 = (4.0 * sk2 + 4.0 * c * sk + c * c * N) / (n * n);
}
LOWBIT_HD float sat_weight_Q(float w, float M, int bits, int scheme) {
  return sat_weight_Q(w, bits, scheme, sat_divisors<float>(M, bits));
}

// dL/dw for one element. `max_share` is dL/dM/k for the autograd max path (0 for constant-M),
// applied only where |t| == M.
template <class D>
LOWBIT_HD float sat_weight_dx(float g, float w, float M, const D& by_M, float scale, float max_share) {
  const float t = tanhf(w);
  const float d = 1.f - t * t;
  float dx = divide(g * scale * d, by_M);
  if (max_share != 0.f && fabsf(t) == M) dx += (t > 0.f ? 1.f : (t < 0.f ? -1.f : 0.f)) * d * max_share;
  return dx;
}
LOWBIT_HD float sat_weight_dx(float g, float w, float M, float scale, float max_share) {
  return sat_weight_dx(g, w, M, M, scale, max_share);
}

// Number of activation levels minus one: 2^b − 1.
LOWBIT_HD float sat_act_steps(int bits) { return static_cast<float>((1 << bits) - 1); }

// CG-PACT forward with α = |α_p| (α ≤ 0 gives 0).
// by_alpha divides by α, by_steps by 2^b − 1 (D = float or ExactDivisor).
template <class D>
LOWBIT_HD float cgpact_forward(float x, float alpha, const D& by_alpha, float steps, const D& by_steps) {
  if (!(alpha > 0.f)) return 0.f;
  float xc = x > 0.f ? x : 0.f;
  if (!(xc < alpha)) xc = alpha;
  return alpha * divide(nearbyintf(divide(xc, by_alpha) * steps), by_steps);
}
LOWBIT_HD float cgpact_forward(float x, float alpha, float steps) {
  return cgpact_forward(x, alpha, alpha, steps, steps);
}

// dy/dx mask: 1 for 0 < x < α (strict at both ends).
LOWBIT_HD float cgpact_dx(float g, float x, float alpha) { return (x > 0.f && x < alpha) ? g : 0.f; }

// g·∂y/∂α (before the sign(α_p) factor): the calibrated clip gradient.
template <class D>
LOWBIT_HD float cgpact_dalpha(float g, float x, float alpha, const D& by_alpha, float steps, const D& by_steps) {
  if (x >= alpha) return g;
  if (x <= 0.f) return 0.f;
  const float z = divide(x, by_alpha);
  return g * (divide(nearbyintf(z * steps), by_steps) - z);
}
LOWBIT_HD float cgpact_dalpha(float g, float x, float alpha, float steps) {
  return cgpact_dalpha(g, x, alpha, alpha, steps, steps);
}

}  // namespace lowbit::quant
