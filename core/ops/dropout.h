// Dropout: in training, zeroes each element with probability p (Philox, so one seed gives the
// same mask on every device) and scales the survivors by 1/(1-p); identity in evaluation.
#pragma once

#include "core/export.h"
#include "core/random.h"
#include "core/tensor.h"

namespace lowbit {

LOWBIT_API Tensor dropout(const Tensor& x, float p, bool training, Generator* gen = nullptr);

}  // namespace lowbit
