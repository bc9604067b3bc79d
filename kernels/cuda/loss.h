// CUDA softmax / log_softmax along one axis and fused cross-entropy (kernels/cuda/loss.cu), with
// the contract of kernels/cpu/loss.h: the axis is addressed as [outer, K, inner], element
// (o, k, i) at (o·K + k)·inner + i; the maximum is subtracted first; sums in double.
// Device pointers; cuda::current_stream().
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void softmax_forward(const float* x, int64_t outer, int64_t k, int64_t inner, bool log, float* y);
void softmax_backward(const float* y, const float* gy, int64_t outer, int64_t k, int64_t inner, bool log,
                      float* gx);

// logits [N, K], labels [N]. Writes the mean loss to *loss (device) and, when grad is not null,
// grad [N, K] = (p − target)/N, as cpu::cross_entropy_forward. Returns -1, or the first row whose
// label is outside [0, K) (then *loss and grad are unspecified).
// This is the backend's one host synchronization inside an op: the kernel records the first bad
// row in device memory and the launcher reads those 8 bytes back (cudaMemcpyAsync on the current
// stream + cudaStreamSynchronize), so that a bad label throws at the call, as on the CPU.
int64_t cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t k, float smoothing,
                              float* loss, float* grad);

}  // namespace lowbit::cuda
