// LSQ quantizer CPU loops on contiguous f32 data (math in kernels/quant/lsq_math.h).
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// y = rint(clamp(x/s, −qn, qp))·s.
void lsq_forward(const float* x, float* y, int64_t n, float s, float qn, float qp);
// dx per element; *ds = grad_scale·Σ g·dy/ds, summed in double.
void lsq_backward(const float* x, const float* g, float* dx, int64_t n, float s, float qn, float qp,
                  double grad_scale, double* ds);

}  // namespace lowbit::cpu
