// CPU int8 GEMM with exact int32 accumulation: C[M,N] = Σ_k A[m,k]·B[n,k] for int8 A [M,K] and
// B [N,K] (row strides lda, ldb; the multi-bit codes as int8 values, multibit_codes.h). Exact
// while K·max|a|·max|b| < 2^31 (the caller checks). Paths: portable scalar; AVX2 (sign-extend
// 16 int8 to int16, vpmaddwd into 8 int32 lanes; a 2×4 register tile runs the whole K loop, the
// rest of K in scalar code); AVX-512 VNNI (vpdpbusd: 64 u8·s8 products per instruction, A offset
// by +128 as unsigned bytes and 128·Σ_k b subtracted per output; 4×4 tiles, masked last step).
// Rows of B in L2 blocks, rows of C split over threads.
// Napkin math (M = N = K = 2048): 17 G int ops; A and B are 4 MiB each; C 16 MiB; the AVX2 inner
// step is 2 cvt + 4 cvt + 8 (madd + add) per 16 k for 8 outputs: ~1.1 vector ops per 16 MACs; the
// AVX-512 step 4 loads + 4 xor + 4 loads + 16 vpdpbusd per 64 k for 16 outputs: ~1.5 per 64 MACs.
#pragma once

#include <cstdint>

#include "kernels/cpu/multibit_config.h"

namespace lowbit::cpu {

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
               int32_t* C, int64_t ldc, const MultibitCpuConfig& config = {});

}  // namespace lowbit::cpu
