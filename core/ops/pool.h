// Pooling on NHWC images (f32): max (padding never wins; gradient to the first maximum of each
// window), average (count_include_pad selectable), and global average -> [N, C].
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

struct Pool2dParams {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_h = 0, pad_w = 0;
};

LOWBIT_API Tensor max_pool2d(const Tensor& x, const Pool2dParams& params);
LOWBIT_API Tensor avg_pool2d(const Tensor& x, const Pool2dParams& params,
                             bool count_include_pad = true);
LOWBIT_API Tensor global_avg_pool(const Tensor& x);

}  // namespace lowbit
