// Binary convolution on the CPU: packed im2col, xnor_gemm, and the border correction (see
// xnor_conv.h).
#include "kernels/cpu/xnor_conv.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "kernels/bit_math.h"

namespace lowbit::cpu {

namespace {

constexpr int64_t kColBufferBytes = int64_t{64} << 20;  // column buffer budget per chunk of images

// col[(n·OH + oy)·OW + ox, tap·cw + w] = x word of the tap's pixel, or 0 outside the image.
void packed_im2col(const uint32_t* x, const BinaryConvGeom& g, int64_t nb, uint32_t* col) {
  int64_t cw = packed_words(g.C), row = g.KH * g.KW * cw;
  for (int64_t n = 0; n < nb; ++n)
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        uint32_t* dst = col + ((n * g.OH + oy) * g.OW + ox) * row;
        for (int64_t ky = 0; ky < g.KH; ++ky) {
          int64_t iy = oy * g.sh - g.ph + ky;
          for (int64_t kx = 0; kx < g.KW; ++kx, dst += cw) {
            int64_t ix = ox * g.sw - g.pw + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) std::memset(dst, 0, cw * 4);
            else std::memcpy(dst, x + ((n * g.H + iy) * g.W + ix) * cw, cw * 4);
          }
        }
      }
}

// tap_sums[o·KH·KW + tap] = Σ_c sign(w[o, tap, c]) = C − 2·popc(w words of the tap).
std::vector<int32_t> weight_tap_sums(const uint32_t* w, const BinaryConvGeom& g) {
  int64_t cw = packed_words(g.C), taps = g.O * g.KH * g.KW;
  std::vector<int32_t> sums(static_cast<size_t>(taps));
  for (int64_t t = 0; t < taps; ++t) {
    int64_t popc = 0;
    for (int64_t i = 0; i < cw; ++i) popc += std::popcount(w[t * cw + i]);
    sums[t] = xnor_dot(g.C, popc);
  }
  return sums;
}

// y[n, oy, ox, o] -= the tap sums of the taps outside the image, for every border pixel.
void correct_borders(const BinaryConvGeom& g, const std::vector<int32_t>& tap_sums, int64_t nb, int32_t* y) {
  int64_t taps = g.KH * g.KW;
  std::vector<int64_t> outside;
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      outside.clear();
      for (int64_t ky = 0; ky < g.KH; ++ky)
        for (int64_t kx = 0; kx < g.KW; ++kx) {
          int64_t iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
          if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) outside.push_back(ky * g.KW + kx);
        }
      if (outside.empty()) continue;
      for (int64_t o = 0; o < g.O; ++o) {
        int32_t fix = 0;
        for (int64_t t : outside) fix += tap_sums[o * taps + t];
        for (int64_t n = 0; n < nb; ++n) y[((n * g.OH + oy) * g.OW + ox) * g.O + o] -= fix;
      }
    }
}

}  // namespace

void xnor_conv2d(const uint32_t* x, const uint32_t* w, const BinaryConvGeom& g, int32_t* y,
                 const XnorGemmConfig& config) {
  int64_t cw = packed_words(g.C), row = g.KH * g.KW * cw, k_bits = g.KH * g.KW * g.C;
  int64_t pixels = g.OH * g.OW;
  if (g.N == 0 || pixels == 0 || g.O == 0) return;
  bool direct = g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  if (direct) return xnor_gemm(g.N * pixels, g.O, cw, k_bits, x, cw, w, row, y, g.O, config);
  bool padded = g.ph > 0 || g.pw > 0;
  std::vector<int32_t> tap_sums = padded ? weight_tap_sums(w, g) : std::vector<int32_t>();
  int64_t chunk = std::clamp<int64_t>(kColBufferBytes / std::max<int64_t>(pixels * row * 4, 1), 1, g.N);
  std::vector<uint32_t> col(static_cast<size_t>(chunk * pixels * row));
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    int64_t nb = std::min(chunk, g.N - n0);
    int32_t* ys = y + n0 * pixels * g.O;
    packed_im2col(x + n0 * g.H * g.W * cw, g, nb, col.data());
    xnor_gemm(nb * pixels, g.O, row, k_bits, col.data(), row, w, row, ys, g.O, config);
    if (padded) correct_borders(g, tap_sums, nb, ys);
  }
}

}  // namespace lowbit::cpu
