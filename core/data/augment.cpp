// Augmentation choices (Philox), the normalization table, and the crop/flip/normalize of one image.
#include "core/data/augment.h"

#include <cmath>

#include "core/error.h"
#include "kernels/image_math.h"
#include "kernels/philox.h"

namespace lowbit::data {

AugmentChoice augment_choice(uint64_t seed, int64_t epoch, int64_t index, int64_t pad, bool flip_enabled) {
  const uint64_t stream = (uint64_t{1} << 63) + (uint64_t{1} << 62) + static_cast<uint64_t>(epoch);
  const philox::U4 w = philox::block(seed, stream, static_cast<uint64_t>(index));
  const auto range = static_cast<uint64_t>(2 * pad + 1);  // offsets 0..2*pad, multiply-shift
  AugmentChoice a;
  a.oy = static_cast<int64_t>((uint64_t{w.x[0]} * range) >> 32);
  a.ox = static_cast<int64_t>((uint64_t{w.x[1]} * range) >> 32);
  a.flip = flip_enabled && philox::to_uniform(w.x[2]) < 0.5f;
  return a;
}

std::vector<float> normalization_table(const std::vector<float>& mean, const std::vector<float>& std,
                                       int64_t channels) {
  auto fits = [&](const std::vector<float>& v) {
    return v.size() == 1 || static_cast<int64_t>(v.size()) == channels;
  };
  LOWBIT_CHECK(fits(mean) && fits(std), "normalization: need 1 or ", channels, " mean and std values, got ",
               mean.size(), " and ", std.size());
  std::vector<float> lut(static_cast<size_t>(channels * 256));
  for (int64_t c = 0; c < channels; ++c) {
    const float m = mean.size() == 1 ? mean[0] : mean[static_cast<size_t>(c)];
    const float s = std.size() == 1 ? std[0] : std[static_cast<size_t>(c)];
    LOWBIT_CHECK(std::isfinite(m) && std::isfinite(s) && s > 0.f,
                 "normalization: need a finite mean and a finite std > 0, got mean ", m, " std ", s, " for channel ",
                 c);
    for (int v = 0; v < 256; ++v)
      lut[static_cast<size_t>(c * 256 + v)] = normalize_pixel(static_cast<uint8_t>(v), m, s);
  }
  return lut;
}

void augment_image(const uint8_t* src, int64_t h, int64_t w, int64_t c, int64_t pad, const AugmentChoice& choice,
                   const float* lut, float* dst) {
  for (int64_t y = 0; y < h; ++y) {
    const int64_t sy = y + choice.oy - pad;  // source row; outside [0, h): padding
    for (int64_t x = 0; x < w; ++x) {
      const int64_t sx = (choice.flip ? w - 1 - x : x) + choice.ox - pad;
      float* out = dst + (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (int64_t k = 0; k < c; ++k) out[k] = lut[k * 256];
      } else {
        const uint8_t* in = src + (sy * w + sx) * c;
        for (int64_t k = 0; k < c; ++k) out[k] = lut[k * 256 + in[k]];
      }
    }
  }
}

}  // namespace lowbit::data
