// Dropout: in training, zeroes each element with probability p (Philox, so one seed gives the
// same mask on every device) and scales the survivors by 1/(1-p); identity in evaluation.
// p must be in [0, 1): p = 1 is refused (it would zero everything). Without `gen` the draw comes
// from default_generator(); each training call takes the generator's next stream.
#pragma once

#include "core/export.h"
#include "core/random.h"
#include "core/tensor.h"

namespace lowbit {

LOWBIT_API Tensor dropout(const Tensor& x, float p, bool training, Generator* gen = nullptr);

}  // namespace lowbit
