// CPU batch normalization kernels on contiguous f32 data viewed as [rows, C] (the channel axis is
// last, so rows = N·H·W for NHWC images). Per-channel sums accumulate in double.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// Per-channel batch mean and biased variance (two passes: mean, then squared deviations).
void batch_norm_stats(const float* x, int64_t rows, int64_t channels, float* mean, float* var);

// y = (x - mean)·rsqrt(var + eps)·gamma + beta. gamma/beta may be null (meaning 1 and 0).
void batch_norm_forward(const float* x, int64_t rows, int64_t channels, const float* mean, const float* var,
                        float eps, const float* gamma, const float* beta, float* y);

// Gradients given gy. With xhat = (x - mean)·rsqrt(var + eps) and M = rows:
//   gbeta = Σ gy,  ggamma = Σ gy·xhat  (per channel)
//   training (mean/var are the batch statistics): gx = gamma·rsqrt(var+eps)/M·(M·gy - gbeta - xhat·ggamma)
//   evaluation (mean/var are constants):          gx = gamma·rsqrt(var+eps)·gy
// Any of gx, ggamma, gbeta may be null (not wanted); gamma may be null (1).
void batch_norm_backward(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                         const float* var, float eps, const float* gamma, bool training, float* gx, float* ggamma,
                         float* gbeta);

// gx alone (training), given the per-channel means over the whole batch of the backward sums,
// mean_g = Σgy / M and mean_gx = Σgy·xhat / M, where the batch may span several processes
// (core/dist/sync_batch_norm.h: M counts every process's rows, `rows` only this one's):
//   gx = gamma·rsqrt(var+eps)·(gy − mean_g − xhat·mean_gx)
// mean and var are the whole batch's statistics; gamma may be null (1).
void batch_norm_backward_x(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                           const float* var, float eps, const float* gamma, const float* mean_g,
                           const float* mean_gx, float* gx);

}  // namespace lowbit::cpu
