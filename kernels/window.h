// Output size of a sliding window (convolution, pooling) along one axis, shared by host and
// device code: floor((in + 2·pad − kernel) / stride) + 1.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

LOWBIT_HD int64_t window_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace lowbit
