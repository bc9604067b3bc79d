// CPU bit packing: signs of f32 rows -> b1 words along the innermost (reduction) axis and back,
// with the convention of kernels/bit_math.h (bit 1 = -1, bit 0 = +1, padding bits 0). Both
// binary layouts are plain row packings with the channel axis innermost:
//   NHWC activations: rows = N·H·W, inner = C -> each pixel owns packed_words(C) words;
//   OHWI weights:     rows = O·KH·KW, inner = C -> each (o, kh, kw) tap owns packed_words(C)
//                     words, so a convolution window reads whole words per tap.
// Napkin math: reads 4 bytes and writes 1/8 byte per element (memory-bound).
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// dst[r, 0 : packed_words(inner)] = bits of src[r, 0 : inner] (row stride ld_src floats).
void pack_sign_rows(const float* src, int64_t ld_src, uint32_t* dst, int64_t rows, int64_t inner);
// dst[r, 0 : inner] = ±1 from the packed rows (row stride ld_dst floats).
void unpack_sign_rows(const uint32_t* src, float* dst, int64_t ld_dst, int64_t rows, int64_t inner);

}  // namespace lowbit::cpu
