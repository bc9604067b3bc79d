// Per-element math of softmax / log-softmax and cross-entropy, written once for host and device
// (LOWBIT_HD): kernels/cpu/loss.cpp and kernels/cuda/loss.cu call these around their own loops
// (the CPU walks [K, inner] blocks, the GPU a warp per row or a thread per column). The max is
// f32; exp-sums, dot products, log-sum-exp and the loss terms are double.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/hd.h"

namespace lowbit {

// softmax (log = false) or log-softmax of one element, given the row max and Σ exp(x − max)
// (log_sum = log(sum), only read for log-softmax).
LOWBIT_HD float softmax_value(float x, float mx, double sum, double log_sum, bool log) {
  double z = double{x} - mx;
  return static_cast<float>(log ? z - log_sum : ::exp(z) / sum);
}

// One element's term of the backward dot product: Σ gy (log-softmax) or Σ gy·y (softmax).
LOWBIT_HD double softmax_dot_term(float y, float gy, bool log) { return log ? double{gy} : double{gy} * y; }

// gx of one element: gy − exp(y)·dot (log-softmax, y = log p) or y·(gy − dot) (softmax).
LOWBIT_HD float softmax_grad(float y, float gy, double dot, bool log) {
  return static_cast<float>(log ? gy - ::exp(double{y}) * dot : y * (gy - dot));
}

// exp(x − max) in double: one term of a row's Σ exp (max in double).
LOWBIT_HD double exp_shifted(float x, double mx) { return ::exp(x - mx); }

// Label-smoothed cross-entropy of one row (−log p[j] = lse − x[j]):
//   (1 − eps)·(lse − x[label]) + eps·(lse − mean_j x[j]).
LOWBIT_HD double cross_entropy_row_loss(double lse, float x_label, double sum_x, int64_t k, double eps) {
  return (1.0 - eps) * (lse - x_label) + eps * (lse - sum_x / static_cast<double>(k));
}

// d loss / d x[j] of one element, mean over n rows: (p[j] − target[j]) / n with
// target = (1 − eps)·[j == label] + eps / k.
LOWBIT_HD float cross_entropy_grad(float x, double lse, bool is_label, int64_t k, double eps, double inv_n) {
  double target = (is_label ? 1.0 - eps : 0.0) + eps / static_cast<double>(k);
  return static_cast<float>((::exp(x - lse) - target) * inv_n);
}

}  // namespace lowbit
