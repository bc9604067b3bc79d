// Matrix products (f32): matmul of [M,K]x[K,N] or batched [B,M,K]x[B,K,N], and linear
// (y = x W^T + b, W stored [out, in] as in the layers). CPU GEMM through OpenBLAS.
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

LOWBIT_API Tensor matmul(const Tensor& a, const Tensor& b);
// x [N, in], weight [out, in], bias [out] or undefined -> [N, out]
LOWBIT_API Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace lowbit
