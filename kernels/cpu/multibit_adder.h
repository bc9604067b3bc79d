// CPU ADDER GEMM (MINW-Net's "XNOR/SHIFT ADDER" operations for an unquantized operand, spec §5.4):
// C[M,N] (f32) = Σ_k A[m,k]·value(B[n,k]) for f32 activations A [M,K] and sign + exponent weight
// codes B [N,K] (binary, ternary, pow2: kernels/multibit_math.h). Each term a·(±2^t) is exact (a
// sign flip and an exponent add), so the only rounding is the f32 accumulation, in this fixed
// order (the same on every path and thread count, so results are reproducible bit for bit):
//   8 lanes: lane l accumulates the terms k ≡ l (mod 8) for k < K8 = 8·⌊K/8⌋, in increasing k;
//   then s = lane 0 + lane 1 + ... + lane 7 (left to right); then s += term k for k = K8..K−1.
// Error bound against the exact sum: |C − exact| ≤ γ_n·Σ_k |a_k·value_k|, n = K/8 + 14 and
// γ_n = n·u/(1 − n·u), u = 2^−24 (no term is rounded; a term meets at most K/8 additions in its
// lane, 7 lane folds and 7 tail additions, each rounding once). Finite results assumed.
// Paths: portable scalar (8 explicit lanes) and AVX2 (8-float vectors; the weight floats are
// built from the codes per step: ±2^t via vpsllvd/vpsignd, then converted exactly). 2×4 tiles.
#pragma once

#include <cstdint>

#include "kernels/cpu/multibit_config.h"

namespace lowbit::cpu {

constexpr int64_t kAdderLanes = 8;

void adder_gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                float* C, int64_t ldc, const MultibitCpuConfig& config = {});

}  // namespace lowbit::cpu
