// 2-d convolution on NHWC images with OHWI weights (f32): stride, zero padding, groups
// (depthwise when groups == channels). CPU: im2col + GEMM.
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t groups = 1;
};

// x [N,H,W,C], weight [O,KH,KW,C/groups], bias [O] or undefined -> [N,OH,OW,O]
LOWBIT_API Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Conv2dParams& params);

}  // namespace lowbit
