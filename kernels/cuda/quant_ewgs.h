// EWGS quantizer CUDA kernels (kernels/cuda/quant_ewgs.cu), as plain C++ declarations. Scalar
// parameters (l, u, δ) are read from device memory; nothing synchronizes with the host.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void ewgs_forward(const float* x, float* y, int64_t n, const float* l, const float* u, float levels_m1, bool weight);
// acc: device scratch of 2 doubles (zeroed here); dl, du: device scalars written by the backward.
void ewgs_backward(const float* x, const float* g, float* dx, int64_t n, const float* l, const float* u,
                   const float* delta, float levels_m1, bool weight, double* acc, float* dl, float* du);

}  // namespace lowbit::cuda
