// CPU SHIFT GEMM (MINW-Net's 3-bit × 3-bit operation, spec §5.4): C[M,N] (int32) = Σ_k value(B[n,k])·A[m,k]
// where A holds int8 activation values and B sign + exponent codes (binary, ternary or pow2; see
// kernels/multibit_math.h): each weight shifts the activation left by |c| − 1 and applies its sign
// (shift_term), accumulated in int32, exact while K·max|a|·max|value| < 2^31 (the caller checks).
// Paths: portable scalar (shift_term per element) and AVX2 (8 lanes: sign-extend a and c to int32,
// vpsllvd by |c| − 1, whose count −1 for c = 0 gives 0, then vpsignd applies the code's sign and zeroes
// c = 0 again; a 2×4 register tile runs the whole K loop). Same blocking and threads as int8_gemm.
// Napkin math: 3 vector ops per 8 MACs per output (shift, sign, add) vs int8_gemm's ~1 per 16:
// shifts are no cheaper than multiplies here either (spec performance.md).
#pragma once

#include <cstdint>

#include "kernels/cpu/multibit_config.h"

namespace lowbit::cpu {

void shift_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                int32_t* C, int64_t ldc, const MultibitCpuConfig& config = {});

}  // namespace lowbit::cpu
