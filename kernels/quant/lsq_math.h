// LSQ per-element math (spec §6, Esser et al. 2020), written once for the CPU loop and the CUDA
// kernel. v = x/s; y = rint(clamp(v, −Q_N, Q_P))·s (half to even).
// Backward (paper): dx = g·1{−Q_N < v < Q_P} (strict); dy/ds = rint(v) − v inside, −Q_N at or
// below the lower bound, Q_P at or above the upper bound. The step-size gradient is
// grad_scale·Σ g·dy/ds with grad_scale = 1/√(N·Q_P), applied once to the sum by the caller.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace lowbit {

LOWBIT_HD float lsq_forward_value(float x, float s, float qn, float qp) {
  float v = x / s;
  v = v < -qn ? -qn : (v > qp ? qp : v);
  return ::nearbyintf(v) * s;
}

struct LsqGrad {
  float dx, ds;  // dL/dx and this element's UNSCALED contribution g·dy/ds to dL/ds
};

LOWBIT_HD LsqGrad lsq_backward_value(float x, float g, float s, float qn, float qp) {
  float v = x / s;
  if (v <= -qn) return {0.f, -qn * g};
  if (v >= qp) return {0.f, qp * g};
  return {g, (::nearbyintf(v) - v) * g};
}

}  // namespace lowbit
