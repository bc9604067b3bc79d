// CPU softmax / log_softmax along one axis and fused cross-entropy, on contiguous f32 data.
// The softmax axis is addressed as [outer, K, inner]: element (o, k, i) sits at (o·K + k)·inner + i.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// y = softmax (or log_softmax) of x along K, with the maximum subtracted first (stable for any
// finite logits).
void softmax_forward(const float* x, int64_t outer, int64_t k, int64_t inner, bool log, float* y);
// From the forward output y: softmax: gx = y·(gy - Σ_k gy·y); log_softmax: gx = gy - exp(y)·Σ_k gy.
void softmax_backward(const float* y, const float* gy, int64_t outer, int64_t k, int64_t inner, bool log,
                      float* gx);

// logits [N, K], labels [N] in [0, K). Writes the mean over rows of
//   (1-ε)·(−log p[i, y_i]) + ε·mean_k(−log p[i, k])
// to *loss and, when grad is not null, grad[i, k] = (p[i, k] − (1-ε)·[k = y_i] − ε/K) / N.
// Returns -1, or the first row whose label is out of range (nothing is written then).
int64_t cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t k, float smoothing,
                              float* loss, float* grad);

}  // namespace lowbit::cpu
