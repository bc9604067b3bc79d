// CPU optimizer kernels on contiguous f32 arrays: one fused pass per parameter tensor updates the
// parameter and its state in place (per-element math in kernels/optim_math.h), plus the sum of
// squares behind gradient-norm clipping and an in-place clamp for weight clipping.
#pragma once

#include <cstdint>

#include "kernels/optim_math.h"

namespace lowbit::cpu {

// p, g, buf: n elements. buf may be null when momentum is 0.
void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdStepArgs& args);
// p, g, m (exp_avg), v (exp_avg_sq): n elements.
void adam_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamStepArgs& args);
// sum of x[i]^2, accumulated in double.
double sum_squares(const float* x, int64_t n);
// x[i] = min(max(x[i], lo), hi).
void clamp_inplace(float* x, int64_t n, float lo, float hi);

}  // namespace lowbit::cpu
