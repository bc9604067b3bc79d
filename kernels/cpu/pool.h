// CPU pooling kernels on contiguous NHWC f32 images. Windows sweep in floor mode:
// OH = (H + 2·pad_h - kernel_h)/stride_h + 1; padded cells never take part (max) or count as 0
// (average with count_include_pad). The caller guarantees pad < kernel, so every window
// overlaps the image.
#pragma once

#include <cstdint>

#include "kernels/pool_math.h"

namespace lowbit::cpu {

using lowbit::PoolGeometry;  // kernels/pool_math.h

// y = window maximum; arg = iy·W + ix of the first maximum (row-major window order; a NaN wins
// and stays), per output element.
void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y, int32_t* arg);
// gx = 0, then each gy element is added at its window's first maximum.
void max_pool2d_backward(const float* gy, const int32_t* arg, const PoolGeometry& g, float* gx);

// y = window sum / (kh·kw if count_include_pad, else the number of cells inside the image).
void avg_pool2d_forward(const float* x, const PoolGeometry& g, bool count_include_pad, float* y);
// gx = Σ over the windows covering each cell of gy / divisor.
void avg_pool2d_backward(const float* gy, const PoolGeometry& g, bool count_include_pad, float* gx);

// [N, HW, C] -> [N, C] mean over HW, and its backward (gy / HW broadcast over HW).
void global_avg_pool_forward(const float* x, int64_t n, int64_t hw, int64_t c, float* y);
void global_avg_pool_backward(const float* gy, int64_t n, int64_t hw, int64_t c, float* gx);

}  // namespace lowbit::cpu
