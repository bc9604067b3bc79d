// Quantized weights -> integer codes and per-channel steps (see weight_codes.h).
#include "tools/deploy/weight_codes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace lowbit::deploy {
namespace {

constexpr int kMaxDivisor = 128;   // |value| <= 128: signed 8-bit codes
constexpr double kGridTol = 1e-3;  // of one step

bool is_pow2_or_zero(int v) {
  const int a = std::abs(v);
  return (a & (a - 1)) == 0;
}

// The code of integer value v in pow2 format: sign(v)·(log2|v| + 1), 0 for 0.
int8_t pow2_code(int v) {
  if (v == 0) return 0;
  int c = 1;
  while ((1 << (c - 1)) < std::abs(v)) ++c;
  return static_cast<int8_t>(v < 0 ? -c : c);
}

}  // namespace

WeightCodes weight_codes(const std::string& layer, const Tensor& qw, bool sign_exponent) {
  LOWBIT_CHECK(qw.dtype() == DType::f32 && qw.dim() >= 2 && qw.device().is_cpu() && qw.is_contiguous(),
               "weight_codes: layer '", layer, "': weights must be a contiguous f32 host tensor [O, ...], got ",
               shape_str(qw.shape()));
  const int64_t out = qw.size(0), per = qw.numel() / out;
  const float* w = qw.data<float>();
  std::vector<int> values(static_cast<size_t>(qw.numel()));
  WeightCodes r;
  r.step.assign(static_cast<size_t>(out), 1.0);
  for (int64_t c = 0; c < out; ++c) {
    const float* row = w + c * per;
    double m = 0.0;
    for (int64_t i = 0; i < per; ++i) {
      LOWBIT_CHECK(std::isfinite(row[i]), "export: layer '", layer, "': quantized weight [", c, ", ", i, "] is ",
                   row[i]);
      m = std::max(m, std::abs(static_cast<double>(row[i])));
    }
    if (m == 0.0) continue;  // an all-zero channel: codes 0, step 1
    int found = 0;
    for (int j = 1; j <= kMaxDivisor && found == 0; ++j) {
      const double step = m / j;
      bool ok = true;
      for (int64_t i = 0; i < per && ok; ++i) {
        const double v = row[i] / step;
        ok = std::abs(v - std::nearbyint(v)) <= kGridTol;
      }
      if (ok) found = j;
    }
    LOWBIT_CHECK(found > 0, "export: layer '", layer, "': the quantized weights of output channel ", c,
                 " are no integer multiples of one step (at most ", kMaxDivisor,
                 " steps from 0); the multi-bit deploy path takes uniform, ternary, binary or power-of-two levels "
                 "without an offset");
    const double step = m / found;
    r.step[static_cast<size_t>(c)] = step;
    for (int64_t i = 0; i < per; ++i)
      values[static_cast<size_t>(c * per + i)] = static_cast<int>(std::nearbyint(row[i] / step));
  }
  int lo = 0, hi = 0;
  bool binary = true, pow2 = sign_exponent;
  for (int v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    binary = binary && (v == 1 || v == -1);
    pow2 = pow2 && is_pow2_or_zero(v);
  }
  const int max_abs = std::max(-lo, hi);
  if (binary) {
    r.format = CodeFormat::binary();
  } else if (lo >= -1 && hi <= 1) {
    r.format = CodeFormat::ternary();
  } else if (pow2 && max_abs <= (1 << (pow2_levels(4) - 1))) {
    int bits = 3;
    while ((1 << (pow2_levels(bits) - 1)) < max_abs) ++bits;
    r.format = CodeFormat::pow2(bits);
  } else {
    int bits = 2;
    while (bits < 8 && (lo < -(1 << (bits - 1)) || hi > (1 << (bits - 1)) - 1)) ++bits;
    LOWBIT_CHECK(lo >= -128 && hi <= 127, "export: layer '", layer, "': its weight codes span ", lo, "..", hi,
                 ", past 8-bit signed codes");
    r.format = CodeFormat::signed_bits(bits);
  }
  r.codes = Tensor::empty(qw.shape(), DType::i8);
  int8_t* codes = r.codes.data<int8_t>();
  for (size_t i = 0; i < values.size(); ++i)
    codes[i] = r.format.kind == CodeKind::pow2 ? pow2_code(values[i]) : static_cast<int8_t>(values[i]);
  return r;
}

}  // namespace lowbit::deploy
