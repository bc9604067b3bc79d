// Binary (XNOR/popcount) ops on packed b1 tensors, inference only (no autograd): the exact
// integer Σ sign(a)·sign(b) of the float ±1 model. Pack with x.to(DType::b1) (x < 0 -> -1,
// otherwise +1; packed along the innermost axis).
#pragma once

#include <cstdint>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

enum class XnorKernel : uint8_t { automatic, scalar, avx2, avx512 };  // CPU popcount path

struct XnorOptions {
  XnorKernel kernel = XnorKernel::automatic;  // automatic: the fastest this CPU runs
  int threads = 0;                            // 0: the default (every hardware thread)
};

// a [M,K] b1, b [N,K] b1 -> [M,N] i32 with out[m,n] = Σ_k sign(a[m,k])·sign(b[n,k]).
LOWBIT_API Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorOptions& options = {});

// x [N,H,W,C] b1, weight [O,KH,KW,C] b1 -> [N,OH,OW,O] i32: the zero-padded convolution of the
// ±1 values (taps in the padding contribute 0), same stride and padding on both axes.
LOWBIT_API Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad,
                              const XnorOptions& options = {});

}  // namespace lowbit
