// Sign packing on the CPU: one word (32 signs) at a time with the shared sign_bit formula.
#include "kernels/cpu/bitpack.h"

#include <algorithm>

#include "kernels/bit_math.h"

namespace lowbit::cpu {

void pack_sign_rows(const float* src, int64_t ld_src, uint32_t* dst, int64_t rows, int64_t inner) {
  int64_t words = packed_words(inner);
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * ld_src;
    uint32_t* d = dst + r * words;
    for (int64_t w = 0; w < words; ++w) {
      int64_t end = std::min<int64_t>(kBitsPerWord, inner - w * kBitsPerWord);
      uint32_t bits = 0;
      for (int64_t b = 0; b < end; ++b) bits |= sign_bit(s[w * kBitsPerWord + b]) << b;
      d[w] = bits;  // bits past `inner` stay 0
    }
  }
}

void unpack_sign_rows(const uint32_t* src, float* dst, int64_t ld_dst, int64_t rows, int64_t inner) {
  int64_t words = packed_words(inner);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < inner; ++i)
      dst[r * ld_dst + i] = bit_value((src[r * words + i / kBitsPerWord] >> (i % kBitsPerWord)) & 1u);
}

}  // namespace lowbit::cpu
