// CUDA conv2d through cuDNN on NHWC activations and OHWI weights (cuDNN's NHWC tensor format and
// NHWC filter format = KRSC), with stride, zero padding and groups; dilation 1, cross-correlation.
// Every pointer is device memory; calls run on cuda::current_stream() and never synchronize the
// host. Bias add / bias gradient: kernels/cuda/gemm.h (add_row_bias, column_sums).
#pragma once

#include <cstdint>

namespace lowbit::cuda {

struct ConvShape {
  int64_t N, H, W, C;      // input  [N, H, W, C]
  int64_t O, KH, KW;       // weight [O, KH, KW, C/groups]
  int64_t OH, OW;          // output [N, OH, OW, O]
  int64_t sh, sw, ph, pw;  // stride, zero padding
  int64_t groups;
};

// y = conv(x, w) (+ bias[o] when bias is not null); y is overwritten.
void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);
// dx = conv_transpose(gy, w); dx is overwritten.
void conv2d_backward_data(const ConvShape& s, const float* w, const float* gy, float* dx);
// dw = correlation of x with gy; dw is overwritten.
void conv2d_backward_filter(const ConvShape& s, const float* x, const float* gy, float* dw);

// Forgets the cached algorithm choices (and their descriptors).
void conv_clear_cache();

}  // namespace lowbit::cuda
