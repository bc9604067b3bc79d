// CPU binary max-pool on packed NHWC b1 images: the max of ±1 values is +1 unless every value of
// the window is -1, i.e. the AND of the packed channel words of the window's pixels (bit 1 = -1;
// kernels/xnor_epilogue_math.h binary_max_word). Padded cells never take part (as in the float
// max-pool); the caller guarantees pad < kernel, so every window overlaps the image.
// Napkin math: reads kh·kw·C/8 bytes and writes C/8 bytes per output pixel (memory-bound).
#pragma once

#include <cstdint>

#include "kernels/pool_math.h"

namespace lowbit::cpu {

// x: N·H·W pixels of packed_words(g.c) words; y: N·OH·OW pixels of as many words.
void binary_max_pool2d(const uint32_t* x, const PoolGeometry& g, uint32_t* y);

}  // namespace lowbit::cpu
