// Epilogues of the binary GEMM/convolution on the CPU, applied to the i32 sums s[rows, cols]
// (cols = output channels, the innermost axis):
//   - scale_to_f32: y = a[c]·s + b[c] in f32 — the XNOR-Net per-channel scale α (b = 0), or a
//     float output for the last binary layer with batch norm folded in (fold_bn_affine);
//   - threshold_pack: batch norm + sign folded into one integer threshold per channel, packing
//     the next binary layer's input directly (bits along the channel axis, padding bits 0).
// Folding: y = γ·(α·s − μ)/σ + β with σ = sqrt(var + eps) > 0. y ≥ 0 (-> +1, bit 0) ⇔
//   γ·α > 0: s ≥ τ,  γ·α < 0: s ≤ τ,  τ = (μ − β·σ/γ)/α  (computed in double);
//   γ·α = 0: y is the constant β − γ·μ/σ·[α = 0] and every s gives the same bit.
// Sums are integers, so s ≥ τ ⇔ s ≥ ceil(τ) and s ≤ τ ⇔ s ≤ floor(τ): ties at τ give +1 like
// the float model's sign (0 maps to +1).
// Napkin math: reads 4 bytes per sum; writes 4 bytes (f32) or 1/8 byte (packed).
#pragma once

#include <cstdint>

#include "kernels/xnor_epilogue_math.h"

namespace lowbit::cpu {

using lowbit::ThresholdMode;  // kernels/xnor_epilogue_math.h (u8 values ge, le, always_pos, always_neg)

struct ChannelThreshold {
  int32_t t = 0;
  ThresholdMode mode = ThresholdMode::always_pos;
};

// The per-channel threshold of sign(γ·(α·s − μ)/sqrt(var + eps) + β). NaN parameters or
// var + eps <= 0 are refused.
ChannelThreshold fold_bn_threshold(float alpha, float gamma, float beta, float mean, float var, float eps);

// a, b with γ·(α·s − μ)/sqrt(var + eps) + β = a·s + b (rounded to f32).
void fold_bn_affine(float alpha, float gamma, float beta, float mean, float var, float eps, float& a, float& b);

// y[r, c] = a[c]·s[r, c] + (b ? b[c] : 0). lds/ldy: row strides in elements.
void scale_to_f32(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const float* a, const float* b, float* y,
                  int64_t ldy);

// out[r, :] = packed bits of the thresholded row s[r, :] (packed_words(cols) words per row).
void threshold_pack(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const ChannelThreshold* th,
                    uint32_t* out);
// The same with the thresholds as two arrays: t[c] (i32) and mode[c] (ThresholdMode values as u8).
void threshold_pack(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const int32_t* t, const uint8_t* mode,
                    uint32_t* out);

}  // namespace lowbit::cpu
