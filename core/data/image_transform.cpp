// RandomResizedCrop / Resize + CenterCrop choices (definitions in image_transform.h) and their
// application: resample the box, then mirror the rows in place.
#include "core/data/image_transform.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.h"
#include "kernels/philox.h"

namespace lowbit::data {
namespace {

double u32(uint32_t word) { return static_cast<double>(word) * (1.0 / 4294967296.0); }

// floor(u(word) * n) for n >= 1: uniform in [0, n).
int64_t below(uint32_t word, int64_t n) {
  return static_cast<int64_t>((uint64_t{word} * static_cast<uint64_t>(n)) >> 32);
}

int64_t round_even(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

CropChoice random_resized_crop(const ImageTransform& t, uint64_t seed, int64_t epoch, int64_t index, int64_t h,
                               int64_t w) {
  const uint64_t stream = (uint64_t{1} << 63) + (uint64_t{1} << 61) + static_cast<uint64_t>(epoch);
  const uint64_t base = static_cast<uint64_t>(index) * 16;
  CropChoice c;
  c.out_h = c.out_w = t.size;
  c.window = {0, 0, t.size, t.size};
  c.flip = t.flip && philox::to_uniform(philox::block(seed, stream, base + 10).x[0]) < 0.5f;
  const double area = static_cast<double>(h) * static_cast<double>(w);
  const double log_lo = std::log(t.ratio_min), log_hi = std::log(t.ratio_max);
  for (uint64_t attempt = 0; attempt < 10; ++attempt) {
    const philox::U4 r = philox::block(seed, stream, base + attempt);
    const double target = area * (t.scale_min + (t.scale_max - t.scale_min) * u32(r.x[0]));
    const double ratio = std::exp(log_lo + (log_hi - log_lo) * u32(r.x[1]));
    const int64_t cw = round_even(std::sqrt(target * ratio));
    const int64_t ch = round_even(std::sqrt(target / ratio));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      c.box = {below(r.x[2], h - ch + 1), below(r.x[3], w - cw + 1), ch, cw};
      return c;
    }
  }
  const double in_ratio = static_cast<double>(w) / static_cast<double>(h);
  int64_t cw = w, ch = h;
  if (in_ratio < t.ratio_min) {
    ch = round_even(static_cast<double>(w) / t.ratio_min);
  } else if (in_ratio > t.ratio_max) {
    cw = round_even(static_cast<double>(h) * t.ratio_max);
  }
  ch = std::clamp<int64_t>(ch, 1, h);
  cw = std::clamp<int64_t>(cw, 1, w);
  c.box = {(h - ch) / 2, (w - cw) / 2, ch, cw};
  return c;
}

CropChoice resize_center_crop(const ImageTransform& t, int64_t h, int64_t w) {
  CropChoice c;
  c.box = {0, 0, h, w};
  std::tie(c.out_h, c.out_w) = resized_size(h, w, t.resize);
  c.window = {round_even(static_cast<double>(c.out_h - t.size) / 2.0),
              round_even(static_cast<double>(c.out_w - t.size) / 2.0), t.size, t.size};
  return c;
}

}  // namespace

void ImageTransform::check() const {
  LOWBIT_CHECK(size >= 1, "image transform: size must be >= 1, got ", size);
  if (kind == Kind::resize_center_crop) {
    LOWBIT_CHECK(resize >= size, "image transform: resize (", resize, ") must be >= size (", size, ")");
  } else {
    LOWBIT_CHECK(scale_min > 0 && scale_min <= scale_max && scale_max <= 1,
                 "image transform: scale range must satisfy 0 < min <= max <= 1, got ", scale_min, "..", scale_max);
    LOWBIT_CHECK(ratio_min > 0 && ratio_min <= ratio_max && std::isfinite(ratio_max),
                 "image transform: ratio range must satisfy 0 < min <= max, got ", ratio_min, "..", ratio_max);
  }
}

std::pair<int64_t, int64_t> resized_size(int64_t h, int64_t w, int64_t short_side) {
  LOWBIT_CHECK(h >= 1 && w >= 1 && short_side >= 1, "resize: need a non-empty image and a size >= 1, got ", h, "x", w,
               " to ", short_side);
  const int64_t s = std::min(h, w), l = std::max(h, w);
  const auto long_side =
      static_cast<int64_t>(static_cast<double>(short_side) * static_cast<double>(l) / static_cast<double>(s));
  return w <= h ? std::pair{long_side, short_side} : std::pair{short_side, long_side};
}

CropChoice choose_crop(const ImageTransform& t, uint64_t seed, int64_t epoch, int64_t index, int64_t h, int64_t w) {
  LOWBIT_CHECK(h >= 1 && w >= 1, "image transform: empty image ", h, "x", w);
  return t.kind == ImageTransform::Kind::random_resized_crop ? random_resized_crop(t, seed, epoch, index, h, w)
                                                             : resize_center_crop(t, h, w);
}

void apply_crop(const Image& image, const CropChoice& c, uint8_t* dst) {
  resize_bilinear(image.pixels.data(), image.height, image.width, image.channels, c.box, c.out_h, c.out_w, c.window,
                  dst);
  if (!c.flip) return;
  const int64_t w = c.window.width, ch = image.channels;
  for (int64_t y = 0; y < c.window.height; ++y) {
    uint8_t* row = dst + y * w * ch;
    for (int64_t x = 0; x < w / 2; ++x) std::swap_ranges(row + x * ch, row + (x + 1) * ch, row + (w - 1 - x) * ch);
  }
}

}  // namespace lowbit::data
