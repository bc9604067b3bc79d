// CPU elementwise kernels on contiguous f32 data. Broadcasting binary kernels take the output
// shape and each input's strides against it (0 on broadcast axes).
#pragma once

#include <cstdint>

#include "kernels/elementwise_math.h"

namespace lowbit::cpu {

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float a, float b);
// gx = gy * dy/dx
void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx, int64_t n,
                    float a, float b);

// Broadcast strides in elements, rank == out rank.
struct BroadcastArg {
  const void* data;
  const int64_t* strides;
};
void binary(BinaryOp op, BroadcastArg a, BroadcastArg b, float* out, const int64_t* out_shape, int64_t rank);
void compare(CompareOp op, BroadcastArg a, BroadcastArg b, uint8_t* out, const int64_t* out_shape, int64_t rank);
// cond is u8
void where(BroadcastArg cond, BroadcastArg a, BroadcastArg b, float* out, const int64_t* out_shape, int64_t rank);

}  // namespace lowbit::cpu
