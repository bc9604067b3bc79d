// CUDA binary max-pool on packed NHWC b1 images (kernels/cuda/binary_pool.cu), with the contract of
// kernels/cpu/binary_pool.h: the AND of the window's packed channel words (bit 1 = -1), padded
// cells never take part. Device pointers; cuda::current_stream(); no host synchronization.
#pragma once

#include <cstdint>

#include "kernels/pool_math.h"

namespace lowbit::cuda {

// x: N·H·W pixels of packed_words(g.c) words; y: N·OH·OW pixels of as many words.
void binary_max_pool2d(const uint32_t* x, const PoolGeometry& g, uint32_t* y);

}  // namespace lowbit::cuda
