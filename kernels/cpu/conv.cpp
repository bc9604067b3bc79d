// im2col / col2im on NHWC images. Each (output pixel, kernel tap) copies one run of cg
// contiguous channels, so the inner loop is a memcpy (or an add). Napkin math: the column matrix
// holds OH*OW*KH*KW*cg floats per image and group — KH*KW/(sh*sw) times the input (9x for a 3x3
// stride-1 conv) — written once by im2col and read once by col2im; the GEMM that follows does
// 2*KH*KW*cg*(O/groups) flops per column row, which dwarfs this traffic when O/groups is large.
#include "kernels/cpu/conv.h"

#include <cstring>

namespace lowbit::cpu {

void im2col(const float* x, const ConvGeom& g, int64_t nb, int64_t c0, float* col) {
  const size_t run = static_cast<size_t>(g.cg) * sizeof(float);
  for (int64_t n = 0; n < nb; ++n) {
    const float* img = x + n * g.H * g.W * g.C + c0;
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        for (int64_t ky = 0; ky < g.KH; ++ky) {
          int64_t iy = oy * g.sh - g.ph + ky;
          for (int64_t kx = 0; kx < g.KW; ++kx, col += g.cg) {
            int64_t ix = ox * g.sw - g.pw + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W)
              std::memset(col, 0, run);
            else
              std::memcpy(col, img + (iy * g.W + ix) * g.C, run);
          }
        }
      }
  }
}

void col2im(const float* col, const ConvGeom& g, int64_t nb, int64_t c0, float* dx) {
  for (int64_t n = 0; n < nb; ++n) {
    float* img = dx + n * g.H * g.W * g.C + c0;
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        for (int64_t ky = 0; ky < g.KH; ++ky) {
          int64_t iy = oy * g.sh - g.ph + ky;
          for (int64_t kx = 0; kx < g.KW; ++kx, col += g.cg) {
            int64_t ix = ox * g.sw - g.pw + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            float* dst = img + (iy * g.W + ix) * g.C;
            for (int64_t c = 0; c < g.cg; ++c) dst[c] += col[c];
          }
        }
      }
  }
}

}  // namespace lowbit::cpu
