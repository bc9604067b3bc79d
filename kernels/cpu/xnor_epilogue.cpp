// Binary-layer epilogues on the CPU: folding batch norm into thresholds or an affine map, and the
// per-channel scale / threshold+pack loops (see xnor_epilogue.h).
#include "kernels/cpu/xnor_epilogue.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/bit_math.h"

namespace lowbit::cpu {

namespace {

// Sums never leave [-2^31, 2^31); clamping τ there keeps the conversion defined.
constexpr double kTauLimit = 2147483647.0;

}  // namespace

ChannelThreshold fold_bn_threshold(float alpha, float gamma, float beta, float mean, float var, float eps) {
  LOWBIT_CHECK(!std::isnan(alpha) && !std::isnan(gamma) && !std::isnan(beta) && !std::isnan(mean) &&
                   !std::isnan(var) && !std::isnan(eps),
               "fold_bn_threshold: NaN parameter (alpha ", alpha, ", gamma ", gamma, ", beta ", beta, ", mean ",
               mean, ", var ", var, ", eps ", eps, ")");
  double v = static_cast<double>(var) + static_cast<double>(eps);
  LOWBIT_CHECK(v > 0, "fold_bn_threshold: var + eps must be > 0, got var ", var, ", eps ", eps);
  double sigma = std::sqrt(v);
  ChannelThreshold th;
  if (gamma == 0.f || alpha == 0.f) {  // y does not depend on s
    double y = static_cast<double>(beta) - (alpha == 0.f ? gamma * static_cast<double>(mean) / sigma : 0.0);
    th.mode = y >= 0 ? ThresholdMode::always_pos : ThresholdMode::always_neg;
    return th;
  }
  double tau = (static_cast<double>(mean) - static_cast<double>(beta) * sigma / gamma) / alpha;
  bool ge = (gamma > 0) == (alpha > 0);
  double t = ge ? std::ceil(tau) : std::floor(tau);
  th.mode = ge ? ThresholdMode::ge : ThresholdMode::le;
  th.t = static_cast<int32_t>(std::clamp(t, -kTauLimit, kTauLimit));
  return th;
}

void fold_bn_affine(float alpha, float gamma, float beta, float mean, float var, float eps, float& a, float& b) {
  double v = static_cast<double>(var) + static_cast<double>(eps);
  LOWBIT_CHECK(v > 0, "fold_bn_affine: var + eps must be > 0, got var ", var, ", eps ", eps);
  double k = gamma / std::sqrt(v);
  a = static_cast<float>(k * alpha);
  b = static_cast<float>(beta - k * mean);
}

void scale_to_f32(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const float* a, const float* b, float* y,
                  int64_t ldy) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* sr = s + r * lds;
    float* yr = y + r * ldy;
    if (b)
      for (int64_t c = 0; c < cols; ++c) yr[c] = affine_value(sr[c], a[c], b[c]);
    else
      for (int64_t c = 0; c < cols; ++c) yr[c] = affine_value(sr[c], a[c], 0.f);
  }
}

namespace {

// out[r, :] = packed bits of row r, bit of (r, c) = bit_of(sr[c], c).
template <typename BitOf>
void pack_rows(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, uint32_t* out, BitOf bit_of) {
  int64_t words = packed_words(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* sr = s + r * lds;
    uint32_t* o = out + r * words;
    for (int64_t w = 0; w < words; ++w) {
      int64_t c0 = w * kBitsPerWord, end = std::min<int64_t>(kBitsPerWord, cols - c0);
      uint32_t bits = 0;
      for (int64_t i = 0; i < end; ++i) bits |= bit_of(sr[c0 + i], c0 + i) << i;
      o[w] = bits;
    }
  }
}

}  // namespace

void threshold_pack(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const ChannelThreshold* th,
                    uint32_t* out) {
  pack_rows(s, lds, rows, cols, out, [th](int32_t v, int64_t c) {
    return threshold_bit(v, th[c].t, static_cast<uint8_t>(th[c].mode));
  });
}

void threshold_pack(const int32_t* s, int64_t lds, int64_t rows, int64_t cols, const int32_t* t, const uint8_t* mode,
                    uint32_t* out) {
  pack_rows(s, lds, rows, cols, out, [t, mode](int32_t v, int64_t c) { return threshold_bit(v, t[c], mode[c]); });
}

}  // namespace lowbit::cpu
