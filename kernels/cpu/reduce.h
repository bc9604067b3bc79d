// CPU reductions of contiguous f32 data over any set of axes. The output is described by
// out_strides: the input's axes mapped to output offsets, 0 on the reduced axes.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

enum class ReduceOp : uint8_t { sum, max, min };

// out[o] = reduction of every x element mapping to o. For max/min, arg[o] (if not null) gets the
// flat input index of the first extreme element. Sums accumulate in double.
void reduce(ReduceOp op, const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
            int64_t out_numel, int64_t* arg);

}  // namespace lowbit::cpu
