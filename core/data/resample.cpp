// Separable antialiased bilinear resampling (definition in resample.h): per-axis tap tables, a
// horizontal pass over the source rows the window needs (into f32), then a vertical pass.
#include "core/data/resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace lowbit::data {
namespace {

// For output positions from .. from + n - 1 of an axis resized in -> out: the first input of each,
// its number of taps, and `width` weights per position (the first `count` used).
struct Taps {
  int64_t width = 0;
  std::vector<int64_t> first, count;
  std::vector<float> weights;  // [n, width]
};

Taps make_taps(int64_t in, int64_t out, int64_t from, int64_t n) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double f = std::max(scale, 1.0);
  Taps t;
  t.width = static_cast<int64_t>(std::ceil(f)) * 2 + 1;
  t.first.resize(static_cast<size_t>(n));
  t.count.resize(static_cast<size_t>(n));
  t.weights.assign(static_cast<size_t>(n * t.width), 0.f);
  std::vector<double> w(static_cast<size_t>(t.width));
  for (int64_t i = 0; i < n; ++i) {
    const double center = (static_cast<double>(from + i) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(std::floor(center - f + 0.5)), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(std::floor(center + f + 0.5)), in);
    double sum = 0;
    const int64_t count = std::min(hi - lo, t.width);
    for (int64_t k = 0; k < count; ++k) {
      const double d = (static_cast<double>(lo + k) + 0.5 - center) / f;
      w[static_cast<size_t>(k)] = std::max(0.0, 1.0 - std::abs(d));
      sum += w[static_cast<size_t>(k)];
    }
    t.first[static_cast<size_t>(i)] = lo;
    t.count[static_cast<size_t>(i)] = count;
    for (int64_t k = 0; k < count; ++k)
      t.weights[static_cast<size_t>(i * t.width + k)] = static_cast<float>(w[static_cast<size_t>(k)] / sum);
  }
  return t;
}

// One row of the horizontal pass: out[x][ch] = sum_k w[x][k] * in[first[x] + k][ch]. C > 0 is the
// channel count known at compile time (the accumulators stay in registers); C = 0: `c` at run time.
template <int C>
void horizontal_row(const uint8_t* in, const Taps& t, int64_t ow, int64_t c, float* out) {
  const int64_t ch = C > 0 ? C : c;
  for (int64_t x = 0; x < ow; ++x) {
    const uint8_t* p = in + t.first[static_cast<size_t>(x)] * ch;
    const float* w = t.weights.data() + x * t.width;
    const int64_t count = t.count[static_cast<size_t>(x)];
    if constexpr (C > 0) {
      float acc[C] = {};
      for (int64_t k = 0; k < count; ++k)
        for (int j = 0; j < C; ++j) acc[j] += w[k] * static_cast<float>(p[k * C + j]);
      for (int j = 0; j < C; ++j) out[x * C + j] = acc[j];
    } else {
      for (int64_t j = 0; j < ch; ++j) {
        float a = 0.f;
        for (int64_t k = 0; k < count; ++k) a += w[k] * static_cast<float>(p[k * ch + j]);
        out[x * ch + j] = a;
      }
    }
  }
}

}  // namespace

void resize_bilinear(const uint8_t* src, int64_t src_h, int64_t src_w, int64_t c, Box box, int64_t out_h, int64_t out_w,
                     Box window, uint8_t* dst) {
  LOWBIT_CHECK(src_h >= 1 && src_w >= 1 && c >= 1, "resize: empty source image ", src_h, "x", src_w, "x", c);
  LOWBIT_CHECK(box.height >= 1 && box.width >= 1 && box.top >= 0 && box.left >= 0 && box.top + box.height <= src_h &&
                   box.left + box.width <= src_w,
               "resize: box (top ", box.top, ", left ", box.left, ", ", box.height, "x", box.width,
               ") is not inside the ", src_h, "x", src_w, " image");
  LOWBIT_CHECK(out_h >= 1 && out_w >= 1, "resize: output size must be >= 1, got ", out_h, "x", out_w);
  LOWBIT_CHECK(window.height >= 1 && window.width >= 1 && window.top >= 0 && window.left >= 0 &&
                   window.top + window.height <= out_h && window.left + window.width <= out_w,
               "resize: window (top ", window.top, ", left ", window.left, ", ", window.height, "x", window.width,
               ") is not inside the ", out_h, "x", out_w, " output");
  const Taps tx = make_taps(box.width, out_w, window.left, window.width);
  const Taps ty = make_taps(box.height, out_h, window.top, window.height);

  // Source rows (relative to the box) that some output row of the window reads.
  const int64_t row0 = ty.first.front();
  int64_t row1 = row0;
  for (int64_t i = 0; i < window.height; ++i)
    row1 = std::max(row1, ty.first[static_cast<size_t>(i)] + ty.count[static_cast<size_t>(i)]);
  const int64_t ow = window.width, line = ow * c;

  // Horizontal pass: tmp[r][x][ch] for source rows row0 .. row1 - 1.
  std::vector<float> tmp(static_cast<size_t>((row1 - row0) * line));
  for (int64_t r = row0; r < row1; ++r) {
    const uint8_t* in = src + ((box.top + r) * src_w + box.left) * c;
    float* out = tmp.data() + (r - row0) * line;
    if (c == 3)
      horizontal_row<3>(in, tx, ow, c, out);
    else if (c == 1)
      horizontal_row<1>(in, tx, ow, c, out);
    else
      horizontal_row<0>(in, tx, ow, c, out);
  }

  // Vertical pass, rounding half up.
  std::vector<float> sum(static_cast<size_t>(line));
  for (int64_t y = 0; y < window.height; ++y) {
    const int64_t first = ty.first[static_cast<size_t>(y)];
    const int64_t count = ty.count[static_cast<size_t>(y)];
    const float* w = ty.weights.data() + y * ty.width;
    std::fill(sum.begin(), sum.end(), 0.f);
    float* acc = sum.data();
    for (int64_t k = 0; k < count; ++k) {
      const float wk = w[k];
      const float* row = tmp.data() + (first + k - row0) * line;
      for (int64_t i = 0; i < line; ++i) acc[i] += wk * row[i];
    }
    uint8_t* out = dst + y * line;
    for (int64_t i = 0; i < line; ++i) {
      const float v = sum[static_cast<size_t>(i)] + 0.5f;
      out[i] = static_cast<uint8_t>(v <= 0.f ? 0 : v >= 255.f ? 255 : static_cast<int>(v));
    }
  }
}

}  // namespace lowbit::data
