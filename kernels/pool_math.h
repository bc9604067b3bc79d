// Per-window math of 2-D pooling, written once for host and device (LOWBIT_HD): the geometry,
// the window clipped to the image, the average divisor, and the max-pool rule that picks the
// first maximum (a NaN replaces a number and then stays). kernels/cpu/pool.cpp and
// kernels/cuda/pool.cu both call these.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

struct PoolGeometry {
  int64_t n, h, w, c;     // input [N, H, W, C]
  int64_t oh, ow;         // output [N, OH, OW, C]
  int64_t kh, kw, sh, sw, ph, pw;
};

// Window rows/cols clipped to the image: [y0, y1) x [x0, x1).
struct PoolWindow {
  int64_t y0, y1, x0, x1;
};

LOWBIT_HD PoolWindow pool_window_at(const PoolGeometry& g, int64_t oy, int64_t ox) {
  int64_t ys = oy * g.sh - g.ph, xs = ox * g.sw - g.pw;
  return {ys > 0 ? ys : 0, ys + g.kh < g.h ? ys + g.kh : g.h, xs > 0 ? xs : 0, xs + g.kw < g.w ? xs + g.kw : g.w};
}

// kh·kw with count_include_pad, else the number of cells inside the image.
LOWBIT_HD float avg_pool_divisor(const PoolGeometry& g, const PoolWindow& w, bool count_include_pad) {
  return static_cast<float>(count_include_pad ? g.kh * g.kw : (w.y1 - w.y0) * (w.x1 - w.x0));
}

// 1 / divisor in f32 (the avg-pool backward weight of one window).
LOWBIT_HD float avg_pool_inv_divisor(const PoolGeometry& g, const PoolWindow& w, bool count_include_pad) {
  return div_rn(1.f, avg_pool_divisor(g, w, count_include_pad));
}

// Whether v replaces the running maximum `best` of a window (`empty`: nothing seen yet). Strictly
// greater keeps the first maximum; a NaN replaces a number and then stays.
LOWBIT_HD bool max_pool_takes(float v, float best, bool empty) {
  return empty || v > best || (is_nan(v) && !is_nan(best));
}

}  // namespace lowbit
