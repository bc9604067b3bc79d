// LSQ quantizer CUDA kernels (kernels/cuda/quant_lsq.cu), as plain C++ declarations. The step
// size s is read from device memory; nothing synchronizes with the host.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void lsq_forward(const float* x, float* y, int64_t n, const float* s, float qn, float qp);
// acc: device scratch of 1 double (zeroed here); ds: device scalar, grad_scale·Σ g·dy/ds.
void lsq_backward(const float* x, const float* g, float* dx, int64_t n, const float* s, float qn, float qp,
                  double grad_scale, double* acc, float* ds);

}  // namespace lowbit::cuda
