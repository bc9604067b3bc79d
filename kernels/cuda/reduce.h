// CUDA reductions of contiguous f32 data over any set of axes, declared as plain C++ for
// core/ops/reduce.cpp. Same contract as kernels/cpu/reduce.h: shape and out_strides (the input's
// axes mapped to output offsets, 0 on the reduced axes) are host arrays; x, out, arg are device
// memory. Sums accumulate in double; max/min write to arg (if not null) the flat input index of
// the first extreme element (NaN propagates: the first NaN wins), exactly as the CPU does.
// Launches go to cuda::current_stream(); nothing synchronizes the host.
#pragma once

#include <cstdint>

#include "kernels/cpu/reduce.h"  // ReduceOp

namespace lowbit::cuda {

using ReduceOp = cpu::ReduceOp;

void reduce(ReduceOp op, const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
            int64_t out_numel, int64_t* arg);

// Backward of max/min: gx[arg[o]] = g[o] for o < n (gx zero-filled beforehand; the arg entries
// are distinct input elements, so no two outputs write the same place).
void scatter_to_arg(const float* g, const int64_t* arg, float* gx, int64_t n);

// argmax along one axis: idx[o] = (arg[o] / stride) % size, as i32.
void arg_to_axis_index(const int64_t* arg, int32_t* idx, int64_t n, int64_t stride, int64_t size);

}  // namespace lowbit::cuda
