// A binary layer's epilogue on its own on CUDA (for sums that did not come straight out of the
// fused GEMM/conv kernels, e.g. after a max-pool): i32 sums [rows, cols] -> f32 a[c]·s + b[c] or
// threshold bits packed along cols (kernels/xnor_epilogue_math.h, the CPU loops' per-element
// math; out is described by XnorEpilogueArgs as in kernels/cuda/xnor_gemm.h, Kind::i32 copies).
// Napkin math: reads 4 B per sum, writes 4 B (f32) or 1/8 B (bits): memory-bound.
#pragma once

#include <cstdint>

#include "kernels/cuda/xnor_gemm.h"

namespace lowbit::cuda {

// s: contiguous [rows, cols] device sums.
void xnor_epilogue(const int32_t* s, int64_t rows, int64_t cols, const XnorEpilogueArgs& ep);

}  // namespace lowbit::cuda
