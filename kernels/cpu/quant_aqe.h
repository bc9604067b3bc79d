// CPU loops of the AQE estimator (kernels/quant/aqe_math.h) on contiguous f32 data.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// Train forward y = α·h(x) + (1 − α)·x with α read from *alpha; alpha == nullptr gives the hard
// eval forward y = h(x).
void aqe_forward(const float* x, float* y, int64_t n, int levels, float delta, const float* alpha);
// dx = 2α·g·1{|x| ≤ 1}.
void aqe_backward(const float* g, const float* x, float* dx, int64_t n, const float* alpha);

}  // namespace lowbit::cpu
