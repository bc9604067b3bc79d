// Per-element math of the binary-layer epilogues and the binary max-pool, shared by the CPU loops
// (kernels/cpu/xnor_epilogue.cpp, binary_pool.cpp) and the CUDA kernels: the per-channel threshold
// modes (batch norm + sign folded into an integer threshold, see kernels/cpu/xnor_epilogue.h), the
// bit a threshold gives a sum, the affine value a·s + b, and the max of packed ±1 words.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

// Stored as u8 in tensors and .lbm files: the values are part of the deploy format.
enum class ThresholdMode : uint8_t {
  ge = 0,          // +1 iff s >= t
  le = 1,          // +1 iff s <= t
  always_pos = 2,  // +1 for every s
  always_neg = 3,  // -1 for every s
};
inline constexpr uint8_t kThresholdModeCount = 4;

// The packed bit (1 = -1, 0 = +1) of sum s under threshold t and mode (a u8 ThresholdMode).
LOWBIT_HD uint32_t threshold_bit(int32_t s, int32_t t, uint8_t mode) {
  switch (static_cast<ThresholdMode>(mode)) {
    case ThresholdMode::ge: return s >= t ? 0u : 1u;
    case ThresholdMode::le: return s <= t ? 0u : 1u;
    case ThresholdMode::always_pos: return 0u;
    default: return 1u;  // always_neg
  }
}

// The affine epilogue's float value a·s + b (b = 0 without a bias); rounded mul then add on both
// sides (no FMA contraction on the device), so CUDA and CPU agree bit for bit.
LOWBIT_HD float affine_value(int32_t s, float a, float b) { return add_rn(mul_rn(a, static_cast<float>(s)), b); }

// max of ±1 values in packed words: +1 (bit 0) unless every operand is -1 (bit 1), so the AND of
// the words. Padding bits are 0 in every operand and stay 0.
LOWBIT_HD uint32_t binary_max_word(uint32_t a, uint32_t b) { return a & b; }
// The neutral start of a binary max (every bit -1), for windows that still have to see a word.
inline constexpr uint32_t kBinaryMaxInit = 0xFFFFFFFFu;

}  // namespace lowbit
