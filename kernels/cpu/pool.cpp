// CPU pooling: for each output pixel, loop over the window's cells inside the image, with the
// channel loop innermost (contiguous in NHWC). Forward reads each input cell kh·kw/(sh·sw) times
// (once for the usual stride = kernel) and writes 4 B (+4 B index for max) per output; one
// compare or add per cell visit. Backward mirrors it, scattering into gx. Memory-bound.
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <vector>

namespace lowbit::cpu {

namespace {

// Calls body(b, window, out_offset) for every output pixel.
template <typename Body>
void for_each_window(const PoolGeometry& g, Body body) {
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) body(b, pool_window_at(g, oy, ox), ((b * g.oh + oy) * g.ow + ox) * g.c);
}

}  // namespace

void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y, int32_t* arg) {
  for_each_window(g, [&](int64_t b, const PoolWindow& win, int64_t out) {
    float* yo = y + out;
    int32_t* ao = arg + out;
    std::fill(yo, yo + g.c, 0.f);  // read by max_pool_takes before the first cell (ignored: arg < 0)
    std::fill(ao, ao + g.c, -1);
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) {
        const float* xi = x + ((b * g.h + iy) * g.w + ix) * g.c;
        auto cell = static_cast<int32_t>(iy * g.w + ix);
        for (int64_t c = 0; c < g.c; ++c) {
          float v = xi[c];
          if (max_pool_takes(v, yo[c], ao[c] < 0)) {
            yo[c] = v;
            ao[c] = cell;
          }
        }
      }
  });
}

void max_pool2d_backward(const float* gy, const int32_t* arg, const PoolGeometry& g, float* gx) {
  std::fill(gx, gx + g.n * g.h * g.w * g.c, 0.f);
  int64_t plane = g.h * g.w * g.c;
  for_each_window(g, [&](int64_t b, const PoolWindow&, int64_t out) {
    for (int64_t c = 0; c < g.c; ++c) gx[b * plane + arg[out + c] * g.c + c] += gy[out + c];
  });
}

void avg_pool2d_forward(const float* x, const PoolGeometry& g, bool count_include_pad, float* y) {
  std::vector<double> acc(static_cast<size_t>(g.c));
  for_each_window(g, [&](int64_t b, const PoolWindow& win, int64_t out) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) {
        const float* xi = x + ((b * g.h + iy) * g.w + ix) * g.c;
        for (int64_t c = 0; c < g.c; ++c) acc[static_cast<size_t>(c)] += xi[c];
      }
    double inv = 1.0 / avg_pool_divisor(g, win, count_include_pad);
    for (int64_t c = 0; c < g.c; ++c) y[out + c] = static_cast<float>(acc[static_cast<size_t>(c)] * inv);
  });
}

void avg_pool2d_backward(const float* gy, const PoolGeometry& g, bool count_include_pad, float* gx) {
  std::fill(gx, gx + g.n * g.h * g.w * g.c, 0.f);
  for_each_window(g, [&](int64_t b, const PoolWindow& win, int64_t out) {
    float inv = avg_pool_inv_divisor(g, win, count_include_pad);
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) {
        float* gi = gx + ((b * g.h + iy) * g.w + ix) * g.c;
        for (int64_t c = 0; c < g.c; ++c) gi[c] += gy[out + c] * inv;
      }
  });
}

void global_avg_pool_forward(const float* x, int64_t n, int64_t hw, int64_t c, float* y) {
  std::vector<double> acc(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) acc[static_cast<size_t>(k)] += x[(b * hw + p) * c + k];
    for (int64_t k = 0; k < c; ++k) y[b * c + k] = static_cast<float>(acc[static_cast<size_t>(k)] / static_cast<double>(hw));
  }
}

void global_avg_pool_backward(const float* gy, int64_t n, int64_t hw, int64_t c, float* gx) {
  float inv = 1.f / static_cast<float>(hw);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) gx[(b * hw + p) * c + k] = gy[b * c + k] * inv;
}

}  // namespace lowbit::cpu
