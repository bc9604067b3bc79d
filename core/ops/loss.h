// softmax / log_softmax over an axis (numerically stable) and cross-entropy on logits.
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

LOWBIT_API Tensor softmax(const Tensor& x, int64_t axis = -1);
LOWBIT_API Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// logits [N, K] f32, labels [N] i32 in [0, K) -> scalar mean loss;
// loss_i = (1-ε)·(−log p[i,y_i]) + ε·mean_k(−log p[i,k]).
LOWBIT_API Tensor cross_entropy(const Tensor& logits, const Tensor& labels,
                                float label_smoothing = 0.f);

}  // namespace lowbit
