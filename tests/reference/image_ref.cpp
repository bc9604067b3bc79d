// Float64 image-transform references (image_ref.h): direct 2-D resampling sum and a line-by-line
// transcription of torchvision's RandomResizedCrop.get_params.
#include "tests/reference/image_ref.h"

#include <algorithm>
#include <cmath>

namespace lowbit::ref {
namespace {

// weights[o][x] for every output o and input x of an axis of length `in` resized to `out`.
std::vector<std::vector<double>> axis_weights(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double f = std::max(1.0, scale);
  std::vector<std::vector<double>> wts(static_cast<size_t>(out), std::vector<double>(static_cast<size_t>(in)));
  for (int64_t o = 0; o < out; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    double sum = 0;
    for (int64_t x = 0; x < in; ++x) {
      const double t = (static_cast<double>(x) + 0.5 - center) / f;
      const double v = std::abs(t) < 1.0 ? 1.0 - std::abs(t) : 0.0;
      wts[static_cast<size_t>(o)][static_cast<size_t>(x)] = v;
      sum += v;
    }
    for (double& v : wts[static_cast<size_t>(o)]) v /= sum;
  }
  return wts;
}

}  // namespace

std::vector<double> resize_bilinear(const std::vector<uint8_t>& src, int64_t, int64_t w, int64_t c, int64_t top,
                                    int64_t left, int64_t bh, int64_t bw, int64_t out_h, int64_t out_w) {
  const auto wy = axis_weights(bh, out_h), wx = axis_weights(bw, out_w);
  std::vector<double> out(static_cast<size_t>(out_h * out_w * c), 0.0);
  for (int64_t oy = 0; oy < out_h; ++oy)
    for (int64_t ox = 0; ox < out_w; ++ox)
      for (int64_t ch = 0; ch < c; ++ch) {
        double s = 0;
        for (int64_t y = 0; y < bh; ++y) {
          const double a = wy[static_cast<size_t>(oy)][static_cast<size_t>(y)];
          if (a == 0) continue;
          for (int64_t x = 0; x < bw; ++x)
            s += a * wx[static_cast<size_t>(ox)][static_cast<size_t>(x)] *
                 static_cast<double>(src[static_cast<size_t>(((top + y) * w + left + x) * c + ch)]);
        }
        out[static_cast<size_t>((oy * out_w + ox) * c + ch)] = s;
      }
  return out;
}

std::vector<int64_t> random_resized_crop_params(int64_t height, int64_t width, double scale_min, double scale_max,
                                                double ratio_min, double ratio_max,
                                                const std::vector<std::vector<double>>& u) {
  // area = height * width; log_ratio = log(ratio)
  const double area = static_cast<double>(height * width);
  const double log_r0 = std::log(ratio_min), log_r1 = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const std::vector<double>& d = u[static_cast<size_t>(attempt)];
    // target_area = area * uniform(scale); aspect_ratio = exp(uniform(log_ratio))
    const double target_area = area * (scale_min + d[0] * (scale_max - scale_min));
    const double aspect_ratio = std::exp(log_r0 + d[1] * (log_r1 - log_r0));
    // w = int(round(sqrt(target_area * aspect_ratio))); h likewise (Python rounds half to even)
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area * aspect_ratio)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area / aspect_ratio)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      // i = randint(0, height - h + 1); j = randint(0, width - w + 1)
      const auto i = static_cast<int64_t>(std::floor(d[2] * static_cast<double>(height - h + 1)));
      const auto j = static_cast<int64_t>(std::floor(d[3] * static_cast<double>(width - w + 1)));
      return {i, j, h, w};
    }
  }
  // Fallback to central crop
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < ratio_min) {
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(w) / ratio_min));
  } else if (in_ratio > ratio_max) {
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * ratio_max));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

}  // namespace lowbit::ref
