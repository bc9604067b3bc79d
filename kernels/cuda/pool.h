// CUDA pooling kernels on contiguous NHWC f32 images (kernels/cuda/pool.cu), with the contract
// and geometry of kernels/cpu/pool.h: floor-mode windows, first-maximum argmax (i32, iy·W + ix;
// a NaN wins and stays), average with or without count_include_pad, global average. Device
// pointers; cuda::current_stream(); no host synchronization.
#pragma once

#include <cstdint>

#include "kernels/cpu/pool.h"

namespace lowbit::cuda {

using cpu::PoolGeometry;

void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y, int32_t* arg);
void max_pool2d_backward(const float* gy, const int32_t* arg, const PoolGeometry& g, float* gx);

void avg_pool2d_forward(const float* x, const PoolGeometry& g, bool count_include_pad, float* y);
void avg_pool2d_backward(const float* gy, const PoolGeometry& g, bool count_include_pad, float* gx);

void global_avg_pool_forward(const float* x, int64_t n, int64_t hw, int64_t c, float* y);
void global_avg_pool_backward(const float* gy, int64_t n, int64_t hw, int64_t c, float* gx);

}  // namespace lowbit::cuda
