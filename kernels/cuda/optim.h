// CUDA optimizer kernels on contiguous f32 device arrays, declared as plain C++ for core/optim/:
// one fused pass per parameter tensor (per-element math in kernels/optim_math.h, the same calls
// as kernels/cpu/optim.h), the sum of squares behind gradient-norm clipping, and an in-place clamp.
// Launches go to cuda::current_stream(); only sum_squares returns a host value (see there).
#pragma once

#include <cstdint>

#include "kernels/optim_math.h"

namespace lowbit::cuda {

// p, g, buf: n elements. buf may be null when momentum is 0.
void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdStepArgs& args);
// p, g, m (exp_avg), v (exp_avg_sq): n elements.
void adam_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamStepArgs& args);
// Σ x[i]² over `count` arrays xs[k] of ns[k] elements, accumulated in double on the device and
// copied to the host once at the end: the one synchronization clip_grad_norm's API (it returns
// the norm) requires.
double sum_squares(const float* const* xs, const int64_t* ns, int64_t count);
// x[i] = min(max(x[i], lo), hi).
void clamp_inplace(float* x, int64_t n, float lo, float hi);

}  // namespace lowbit::cuda
