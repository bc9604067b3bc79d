// Per-element math of the optimizer updates, written once for host and device (LOWBIT_HD): one
// call updates one parameter element and its state in place. The scalars that depend only on the
// step (Adam's bias corrections) are computed once per tensor on the host, in double, and passed
// in the hyper-parameter structs, as torch.optim does.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace lowbit {

// torch.optim.SGD with dampening 0. `first`: the momentum buffer is set to the gradient (it holds
// garbage before); otherwise buf = momentum * buf + g.
struct SgdStepArgs {
  float lr;
  float momentum;
  float weight_decay;
  bool nesterov;
  bool first;
};

LOWBIT_HD void sgd_update(float& p, float grad, float* buf, const SgdStepArgs& a) {
  float g = grad + a.weight_decay * p;
  if (a.momentum != 0.f) {
    const float b = a.first ? g : a.momentum * *buf + g;
    *buf = b;
    g = a.nesterov ? g + a.momentum * b : b;
  }
  p -= a.lr * g;
}

// torch.optim.Adam (L2: g += wd * p) and torch.optim.AdamW (decoupled: p *= 1 - lr * wd):
//   m = m + (1 - beta1) * (g - m)        (torch's lerp)
//   v = beta2 * v + (1 - beta2) * g * g
//   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
// with step_size = lr / (1 - beta1^t) and bias_correction2_sqrt = sqrt(1 - beta2^t).
struct AdamStepArgs {
  float lr;
  float beta1;
  float beta2;
  float eps;
  float weight_decay;
  bool decoupled;               // AdamW
  float step_size;              // lr / (1 - beta1^t)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
};

LOWBIT_HD void adam_update(float& p, float grad, float& m, float& v, const AdamStepArgs& a) {
  float g = grad;
  if (a.decoupled) {
    p *= 1.f - a.lr * a.weight_decay;
  } else {
    g += a.weight_decay * p;
  }
  m += (1.f - a.beta1) * (g - m);
  v = a.beta2 * v + (1.f - a.beta2) * g * g;
  const float denom = ::sqrtf(v) / a.bias_correction2_sqrt + a.eps;
  p -= a.step_size * (m / denom);
}

LOWBIT_HD float clamp_value(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

}  // namespace lowbit
