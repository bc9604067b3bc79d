// Numeric modes of the float GEMM and convolution paths, process-wide.
// - TF32 (tensor cores rounding f32 inputs to a 10-bit mantissa) is off by default: f32 matmul and
//   conv on CUDA then run in full f32 (cuBLAS compute type 32F, cuDNN FMA math).
//   set_allow_tf32(true) opts in for speed.
// - Deterministic algorithms: when on, CUDA convolutions use only cuDNN algorithms that give the
//   same bits on every run (some backward-filter/data algorithms accumulate with atomics).
// The CPU backend ignores both (it never uses TF32; its kernels are deterministic).
#pragma once

#include "core/export.h"

namespace lowbit {

LOWBIT_API void set_allow_tf32(bool allow);
LOWBIT_API bool allow_tf32();

LOWBIT_API void set_deterministic_algorithms(bool on);
LOWBIT_API bool deterministic_algorithms();

}  // namespace lowbit
