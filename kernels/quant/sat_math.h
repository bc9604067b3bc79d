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

namespace lowbit::quant {

enum class SatScheme : int { original = 0, modified = 1, centered = 2 };
enum class SatMaxGrad : int { autograd = 0, constant = 1 };

// |tanh(w)|: the quantity whose tensor-wide max is M.
LOWBIT_HD float sat_abs_tanh(float w) { return fabsf(tanhf(w)); }

// q(u) in [0, 1] for u in [0, 1].
LOWBIT_HD float sat_weight_level(float u, int bits, int scheme) {
  const float n = static_cast<float>(1 << bits);  // 2^b
  if (scheme == static_cast<int>(SatScheme::original)) {
    const float m = n - 1.f;
    return nearbyintf(m * u) / m;
  }
  const float k = fminf(floorf(n * u), n - 1.f);
  return scheme == static_cast<int>(SatScheme::modified) ? k / n : (k + 0.5f) / n;
}

// Q = 2q − 1 (unscaled) for weight w, given M = max|tanh w| > 0.
LOWBIT_HD float sat_weight_Q(float w, float M, int bits, int scheme) {
  const float u = (tanhf(w) / M + 1.f) * 0.5f;
  return 2.f * sat_weight_level(u, bits, scheme) - 1.f;
}

// dL/dw for one element. `max_share` is dL/dM/k for the autograd max path (0 for constant-M),
// applied only where |t| == M.
LOWBIT_HD float sat_weight_dx(float g, float w, float M, float scale, float max_share) {
  const float t = tanhf(w);
  const float d = 1.f - t * t;
  float dx = g * scale * d / M;
  if (max_share != 0.f && fabsf(t) == M) dx += (t > 0.f ? 1.f : (t < 0.f ? -1.f : 0.f)) * d * max_share;
  return dx;
}

// Number of activation levels minus one: 2^b − 1.
LOWBIT_HD float sat_act_steps(int bits) { return static_cast<float>((1 << bits) - 1); }

// CG-PACT forward with α = |α_p| (α ≤ 0 gives 0).
LOWBIT_HD float cgpact_forward(float x, float alpha, float steps) {
  if (!(alpha > 0.f)) return 0.f;
  float xc = x > 0.f ? x : 0.f;
  if (!(xc < alpha)) xc = alpha;
  return alpha * (nearbyintf(xc / alpha * steps) / steps);
}

// dy/dx mask: 1 for 0 < x < α (strict at both ends).
LOWBIT_HD float cgpact_dx(float g, float x, float alpha) { return (x > 0.f && x < alpha) ? g : 0.f; }

// g·∂y/∂α (before the sign(α_p) factor): the calibrated clip gradient.
LOWBIT_HD float cgpact_dalpha(float g, float x, float alpha, float steps) {
  if (x >= alpha) return g;
  if (x <= 0.f) return 0.f;
  const float z = x / alpha;
  return g * (nearbyintf(z * steps) / steps - z);
}

}  // namespace lowbit::quant
