// Batch norm + sign + pack on the CPU (see bn_sign.h).
#include "kernels/cpu/bn_sign.h"

#include <algorithm>

#include "kernels/bit_math.h"
#include "kernels/norm_math.h"

namespace lowbit::cpu {

void batch_norm_sign_pack(const float* x, int64_t rows, int64_t channels, const float* scale, const float* shift,
                          uint32_t* out) {
  const int64_t words = packed_words(channels);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    uint32_t* o = out + r * words;
    for (int64_t w = 0; w < words; ++w) {
      const int64_t c0 = w * kBitsPerWord, end = std::min<int64_t>(kBitsPerWord, channels - c0);
      uint32_t bits = 0;
      for (int64_t i = 0; i < end; ++i)
        bits |= sign_bit(bn_normalize(xr[c0 + i], scale[c0 + i], shift[c0 + i])) << i;
      o[w] = bits;
    }
  }
}

}  // namespace lowbit::cpu
