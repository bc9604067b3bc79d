// EWGS quantizer CPU loops on contiguous f32 data (math in kernels/quant/ewgs_math.h).
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// y = EWGS forward of x with interval [l, u] and levels_m1 = 2^bits − 1.
void ewgs_forward(const float* x, float* y, int64_t n, float l, float u, float levels_m1, bool weight);
// dx per element; dl, du summed in double over the n elements.
void ewgs_backward(const float* x, const float* g, float* dx, int64_t n, float l, float u, float delta,
                   float levels_m1, bool weight, double* dl, double* du);

}  // namespace lowbit::cpu
