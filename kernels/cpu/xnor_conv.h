// CPU binary convolution on packed NHWC input and packed OHWI weights (channels packed, one
// run of packed_words(C) words per pixel and per weight tap): y[N,OH,OW,O] (i32) = Σ over the
// taps inside the image Σ_c sign(x)·sign(w) — exactly what the float ±1 model with zero padding
// gives (a padded tap contributes 0, not ±1).
// Method: packed im2col + xnor_gemm. Each output pixel's row gathers its KH·KW taps as whole words
// (a tap outside the image is written as zero words, i.e. read as +1 by the GEMM); the GEMM runs
// with k_bits = KH·KW·C; then border pixels subtract, per output channel, the weight sums
// Σ_c sign(w[o,tap,c]) of their outside taps. A 1×1, stride-1, unpadded conv skips im2col (the
// input is its own column matrix).
// Napkin math: im2col moves KH·KW·C/8 bytes per output pixel; the GEMM does
// 2·N·OH·OW·O·KH·KW·C binary ops (see xnor_gemm.h); the border fix touches only border pixels.
#pragma once

#include <cstdint>

#include "kernels/cpu/xnor_gemm.h"

namespace lowbit::cpu {

struct BinaryConvGeom {
  int64_t N, H, W, C;       // input [N,H,W,C]
  int64_t O, KH, KW;        // weights [O,KH,KW,C]
  int64_t OH, OW;           // output [N,OH,OW,O]
  int64_t sh, sw, ph, pw;   // stride, zero padding
};

// x: N·H·W pixels of packed_words(C) words; w: O·KH·KW taps of packed_words(C) words;
// y: N·OH·OW·O int32 (contiguous).
void xnor_conv2d(const uint32_t* x, const uint32_t* w, const BinaryConvGeom& g, int32_t* y,
                 const XnorGemmConfig& config = {});

}  // namespace lowbit::cpu
