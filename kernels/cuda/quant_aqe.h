// CUDA kernels of the AQE estimator (kernels/cuda/quant_aqe.cu), as plain C++ declarations.
// Device pointers; α is read from device memory (nullptr: the hard eval forward). Current stream.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void aqe_forward(const float* x, float* y, int64_t n, int levels, float delta, const float* alpha);
void aqe_backward(const float* g, const float* x, float* dx, int64_t n, const float* alpha);

}  // namespace lowbit::cuda
