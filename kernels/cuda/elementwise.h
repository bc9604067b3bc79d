// CUDA elementwise kernels (f32), declared as plain C++ so that core/ops/elementwise.cpp can call
// them. Same contract as kernels/cpu/elementwise.h: every data pointer is device memory; shapes
// and broadcast strides (in elements, 0 on broadcast axes, rank == output rank) are host arrays.
// Launches go to cuda::current_stream() and never synchronize the host. Per-element math:
// kernels/elementwise_math.h.
#pragma once

#include <cstdint>

#include "kernels/elementwise_math.h"

namespace lowbit::cuda {

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float a, float b);
// gx = gy * dy/dx; y may be null for ops whose derivative does not use it.
void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx, int64_t n, float a,
                    float b);

// Broadcasting ops: output contiguous of out_shape; a_strides/b_strides/c_strides per output axis.
// At most 8 axes after merging the axes that stay contiguous for every operand.
void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
            float* out, const int64_t* out_shape, int64_t rank);
void compare(CompareOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
             uint8_t* out, const int64_t* out_shape, int64_t rank);
// out = cond ? a : b, cond u8 (nonzero = true).
void where(const uint8_t* cond, const int64_t* c_strides, const float* a, const int64_t* a_strides, const float* b,
           const int64_t* b_strides, float* out, const int64_t* out_shape, int64_t rank);

}  // namespace lowbit::cuda
