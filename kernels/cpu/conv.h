// CPU im2col / col2im for NHWC convolution. A column matrix holds, for a run of `nb` images and
// one channel group [c0, c0 + cg), one row per output pixel (n, oy, ox) and one column per
// (ky, kx, ci) — the same order as an OHWI weight row — so conv = col [rows, KH*KW*cg] times the
// group's weights transposed [KH*KW*cg, O/groups]. Taps in the zero padding are 0 in col.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

struct ConvGeom {
  int64_t H, W, C;         // input image (channels last)
  int64_t KH, KW;          // kernel
  int64_t OH, OW;          // output image
  int64_t sh, sw, ph, pw;  // stride, zero padding
  int64_t cg;              // channels per group
  int64_t col_cols() const { return KH * KW * cg; }
  int64_t col_rows(int64_t nb) const { return nb * OH * OW; }
};

// col[nb*OH*OW, KH*KW*cg] = patches of x[nb, H, W, C] restricted to channels [c0, c0 + cg).
void im2col(const float* x, const ConvGeom& g, int64_t nb, int64_t c0, float* col);
// The adjoint: dx[nb, H, W, C] (channels [c0, c0 + cg)) += each col entry at its patch position.
void col2im(const float* col, const ConvGeom& g, int64_t nb, int64_t c0, float* dx);

}  // namespace lowbit::cpu
