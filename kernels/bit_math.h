// Per-element math of the binary (b1) kernels, shared by the CPU loops and the future CUDA
// kernels: the sign <-> bit convention (bit 1 = -1, bit 0 = +1, so 0 maps to +1; padding bits 0),
// words per packed row, and the ±1 dot product from a popcount.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

constexpr int64_t kBitsPerWord = 32;

// Words holding n packed signs (one row; rows never share a word).
LOWBIT_HD int64_t packed_words(int64_t n) { return (n + kBitsPerWord - 1) / kBitsPerWord; }

// The one sign formula: x < 0 -> bit 1 (-1); 0, +x and NaN -> bit 0 (+1).
LOWBIT_HD uint32_t sign_bit(float x) { return x < 0.f ? 1u : 0u; }
LOWBIT_HD float bit_value(uint32_t bit) { return bit ? -1.f : 1.f; }

// Σ sign(a)·sign(b) over k positions from popc(a XOR b) over their packed words: the matching
// positions count +1, the differing ones -1. Padding bits are 0 in both operands, so their XOR
// is 0 and they never enter the popcount: k is the logical (valid) length.
LOWBIT_HD int32_t xnor_dot(int64_t k, int64_t popc_xor) { return static_cast<int32_t>(k - 2 * popc_xor); }

// The same dot from AND (what binary tensor cores compute):
// K − 2·popc(a) − 2·popc(b) + 4·popc(a ∧ b).
LOWBIT_HD int32_t xnor_dot_and(int64_t k, int64_t popc_a, int64_t popc_b, int64_t popc_and) {
  return static_cast<int32_t>(k - 2 * popc_a - 2 * popc_b + 4 * popc_and);
}

}  // namespace lowbit
