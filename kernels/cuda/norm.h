// CUDA batch normalization on contiguous f32 data viewed as [rows, C] (channel axis last, rows =
// N·H·W for NHWC), hand-written (kernels/cuda/norm.cu) with the contract of kernels/cpu/norm.h:
// per-channel sums in double, biased batch variance, gamma/beta/gx/ggamma/gbeta may be null.
// Device pointers; runs on cuda::current_stream(); never synchronizes the host. The running
// statistics are updated by the op (core/ops/norm.cpp) with tensor arithmetic.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void batch_norm_stats(const float* x, int64_t rows, int64_t channels, float* mean, float* var);

void batch_norm_forward(const float* x, int64_t rows, int64_t channels, const float* mean, const float* var,
                        float eps, const float* gamma, const float* beta, float* y);

void batch_norm_backward(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                         const float* var, float eps, const float* gamma, bool training, float* gx, float* ggamma,
                         float* gbeta);

// gx given the whole batch's per-channel means of the backward sums (kernels/cpu/norm.h).
void batch_norm_backward_x(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                           const float* var, float eps, const float* gamma, const float* mean_g,
                           const float* mean_gx, float* gx);

}  // namespace lowbit::cuda
