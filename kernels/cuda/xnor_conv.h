// CUDA binary convolution on packed NHWC input and packed OHWI weights (channels packed, one run
// of packed_words(C) words per pixel and per weight tap), with the binary layer's epilogue fused
// into the GEMM kernel's store phase (kernels/cuda/xnor_gemm.h XnorEpilogueArgs; the output rows
// are the N·OH·OW pixels, the columns the O channels). Exactly the CPU kernel's semantics
// (kernels/cpu/xnor_conv.h): taps in the zero padding contribute 0.
//
// Method: an implicit GEMM — the A operand's loader gathers each output pixel's KH·KW taps
// straight from x into shared memory (a tap outside the image is loaded as zero words, i.e. read
// as +1 by the popcount forms), B is the weight tensor itself ([O, KH·KW·cw] rows), and the store
// phase subtracts, for border pixels, the weight sums Σ_c sign(w[o,tap,c]) of the taps outside
// the image, from a per-channel 2-D prefix table of tap sums (4 reads per border output).
// The AND form also needs popc of each gathered row: Σ over the window's taps inside the image of
// a per-pixel popcount (pre-pass over x) — computed once per tile row. A 1×1, stride-1, unpadded
// convolution is a plain GEMM on x.
// Napkin math (ResNet-18 3×3 layers, batch 64): 2·N·OH·OW·O·9·C = 14.8 G binary ops per layer;
// x and the packed output are 1.6 MB (56×56×64) .. 0.2 MB (7×7×512) — taps re-read x through L2
// (9×) rather than HBM; the pre-passes read x and w once.
#pragma once

#include <cstdint>

#include "kernels/cpu/xnor_conv.h"  // BinaryConvGeom
#include "kernels/cuda/xnor_gemm.h"

namespace lowbit::cuda {

// x: N·H·W pixels of packed_words(C) words; w: O·KH·KW taps of packed_words(C) words (device).
void xnor_conv2d(const uint32_t* x, const uint32_t* w, const cpu::BinaryConvGeom& g, const XnorEpilogueArgs& ep,
                 XnorCudaPath path = XnorCudaPath::automatic);

}  // namespace lowbit::cuda
