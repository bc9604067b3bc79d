// EWGS per-element math (spec §2.1–2.2), written once for the CPU loop and the CUDA kernel.
//   t = (x − l)/(u − l); x_n = clamp(t, 0, 1); x_q = rint(x_n·(L−1))/(L−1) (half to even);
//   y = 2·(x_q − ½) for weights, x_q for activations.
//   Backward: g_q = 2·g (weights) or g; g_n = g_q·(1 + δ·sign(g_q)·(x_n − x_q)), sign(0) = 0;
//   inside mask m = 1{0 ≤ t ≤ 1} (bounds included); dx = m·g_n/r, du = −m·g_n·t/r,
//   dl = m·g_n·(t − 1)/r with r = u − l (= the spec's −(x−l)/r² and (x−u)/r² terms).
// The operation order (x − l)/(u − l) is the reference's, so dyadic ties stay exact in float32.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace lowbit {

// levels_m1 = 2^bits − 1.
LOWBIT_HD float ewgs_quantize_level(float xn, float levels_m1) { return ::nearbyintf(xn * levels_m1) / levels_m1; }

LOWBIT_HD float ewgs_forward_value(float x, float l, float u, float levels_m1, bool weight) {
  float t = (x - l) / (u - l);
  float xn = t < 0.f ? 0.f : (t > 1.f ? 1.f : t);
  float xq = ewgs_quantize_level(xn, levels_m1);
  return weight ? 2.f * (xq - 0.5f) : xq;
}

struct EwgsGrad {
  float dx, dl, du;  // dL/dx and this element's contributions to dL/dl and dL/du
};

// g: dL/dy for this element.
LOWBIT_HD EwgsGrad ewgs_backward_value(float x, float g, float l, float u, float delta, float levels_m1,
                                       bool weight) {
  float r = u - l;
  float t = (x - l) / r;
  if (!(t >= 0.f && t <= 1.f)) return {0.f, 0.f, 0.f};  // clipped: no gradient to x, l or u
  float xq = ewgs_quantize_level(t, levels_m1);
  float gq = weight ? 2.f * g : g;
  float sg = gq > 0.f ? 1.f : (gq < 0.f ? -1.f : 0.f);
  float gn = gq * (1.f + delta * sg * (t - xq));
  float dx = gn / r;
  return {dx, dx * (t - 1.f), -dx * t};
}

}  // namespace lowbit
