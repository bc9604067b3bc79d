// Per-element math of image batches, written once for host and device (LOWBIT_HD): the
// normalization of a u8 pixel, (v / 255 - mean) / std in f32 with explicitly rounded operations,
// so the CPU lookup table (core/data/augment.cpp) and the CUDA kernel (kernels/cuda/normalize.cu)
// give the same bits.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

LOWBIT_HD float normalize_pixel(uint8_t v, float mean, float std) {
  return div_rn(add_rn(div_rn(static_cast<float>(v), 255.f), -mean), std);
}

}  // namespace lowbit
