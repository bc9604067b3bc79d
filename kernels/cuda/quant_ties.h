// Tie lists of the fused max-path backward passes (SAT weights, DoReFa weights k ≥ 2), as plain
// C++ so that quant/*.cpp can size the device scratch. Those backwards need S = Σ g·tanh w over the
// whole tensor only for the few elements attaining M = max|tanh w|: one fused pass writes every
// dx without that term, sums S and records the tying elements' indices; a fixup kernel then
// rewrites the recorded elements (or, if more than kTieSlots tie, scans for them).
#pragma once

#include <cstdint>

namespace lowbit::cuda {

inline constexpr int kTieSlots = 16;  // indices a list holds; more ties take the scan

// 64-bit words of a max-path backward's device scratch: [0] S (double), [1] the tie count,
// [2, 2 + kTieSlots) the recorded indices.
inline constexpr int64_t kMaxPathScratchWords = 2 + kTieSlots;

}  // namespace lowbit::cuda
