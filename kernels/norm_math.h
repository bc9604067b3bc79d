// Per-channel and per-element math of batch normalization, written once for host and device
// (LOWBIT_HD): kernels/cpu/norm.cpp and kernels/cuda/norm.cu both call these. Statistics and the
// backward sums are double; the forward is folded to one f32 multiply-add y = x·scale + shift.
// (The running-statistics update is done with tensor ops in core/ops/norm.cpp, on any device.)
#pragma once

#include <cmath>

#include "core/hd.h"

namespace lowbit {

// 1 / sqrt(var + eps), in double.
LOWBIT_HD double bn_inv_std(float var, float eps) { return 1.0 / ::sqrt(double{var} + double{eps}); }

// The folded forward coefficients of one channel: scale = gamma·inv_std, shift = beta − mean·scale
// (gamma, beta: null for 1 and 0), computed in double and rounded to f32.
LOWBIT_HD void bn_scale_shift(float mean, double inv_std, const float* gamma_c, const float* beta_c, float& scale,
                              float& shift) {
  double s = inv_std * (gamma_c ? double{*gamma_c} : 1.0);
  scale = static_cast<float>(s);
  shift = static_cast<float>((beta_c ? double{*beta_c} : 0.0) - mean * s);
}

// y = x·scale + shift, rounded mul then rounded add.
LOWBIT_HD float bn_normalize(float x, float scale, float shift) { return add_rn(mul_rn(x, scale), shift); }

// One element's contribution to Σ gy·xhat (xhat = (x − mean)·inv_std).
LOWBIT_HD double bn_grad_xhat_term(double gy, float x, float mean, double inv_std) {
  return gy * static_cast<double>(x - mean) * inv_std;
}

// gx of one element: a·(gy − (Σgy + xhat·Σgy·xhat) / rows) in training (a = gamma·inv_std), a·gy
// with fixed statistics.
LOWBIT_HD float bn_grad_x(float x, float gy, float mean, double inv_std, const float* gamma_c, double sum_g,
                          double sum_gx, double inv_rows, bool training) {
  double a = (gamma_c ? double{*gamma_c} : 1.0) * inv_std;
  double g = gy;
  if (training) {
    double xhat = static_cast<double>(x - mean) * inv_std;
    g -= (sum_g + xhat * sum_gx) * inv_rows;
  }
  return static_cast<float>(a * g);
}

}  // namespace lowbit
