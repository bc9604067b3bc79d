// CPU batch norm (evaluation) + sign + packing in one pass: the bits of
// sign(bn_normalize(x, scale[c], shift[c])) (kernels/norm_math.h, the same rounded multiply-add
// as the batch-norm kernel; kernels/bit_math.h sign_bit), packed along the channel axis. The
// deploy runtime feeds a float layer's output to a binary layer with it: bit for bit what
// batch_norm(...) followed by .to(DType::b1) gives, without writing the f32 intermediate.
// Napkin math: reads 4 bytes and writes 1/8 byte per element (memory-bound).
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// x: rows x channels (contiguous); out: rows x packed_words(channels) words.
void batch_norm_sign_pack(const float* x, int64_t rows, int64_t channels, const float* scale, const float* shift,
                          uint32_t* out);

}  // namespace lowbit::cpu
