// AQE per-element math (spec §5.1–5.2), shared by the CPU loops (kernels/cpu/quant_aqe.cpp) and
// the CUDA kernels (kernels/cuda/quant_aqe.cu).
//   train: y = α·h(a) + (1 − α)·a;  dx = 2α·g·1{|a| ≤ 1} (inclusive);  eval: y = h(a).
//   h = sign (1 bit; sign(0) = +1, the binarizing sign)
//     | ternary (2 bits): 0 if |a| ≤ Δ else sign(a)
//     | pow2 (3 bits): levels {0, ±¼, ±½, ±1} with nearest-level thresholds ⅛, ⅜, ¾; a value on
//       a threshold takes the smaller magnitude (Eq. 21/22 read "≤"), |a| > ¾ saturates to ±1.
#pragma once

#include <math.h>

#include "core/hd.h"

namespace lowbit::quant {

enum class AqeLevels : int { sign = 0, ternary = 1, pow2 = 2 };

LOWBIT_HD float aqe_h(float a, int levels, float delta) {
  const float s = a < 0.f ? -1.f : 1.f;  // binarizing sign: 0 -> +1
  const float m = fabsf(a);
  if (levels == static_cast<int>(AqeLevels::sign)) return s;
  if (levels == static_cast<int>(AqeLevels::ternary)) return m <= delta ? 0.f : s;
  if (m <= 0.125f) return 0.f;
  if (m <= 0.375f) return 0.25f * s;
  if (m <= 0.75f) return 0.5f * s;
  return s;
}

LOWBIT_HD float aqe_forward(float a, float alpha, int levels, float delta) {
  return alpha * aqe_h(a, levels, delta) + (1.f - alpha) * a;
}

LOWBIT_HD float aqe_dx(float g, float a, float alpha) { return fabsf(a) <= 1.f ? 2.f * alpha * g : 0.f; }

}  // namespace lowbit::quant
