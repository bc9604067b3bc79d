// CUDA GEMM (cuBLAS) with the contract of kernels/cpu/gemm.h: row-major operands, lda/ldb/ldc are
// row strides in elements, op(A) [M,K], op(B) [K,N]; with beta == 0 C is overwritten. f32 runs in
// full f32 unless lowbit::set_allow_tf32(true) (core/math_mode.h). Plus the GEMM epilogues (bias
// add, bias gradient) and a half-precision GEMM. Every pointer is device memory; everything runs
// on cuda::current_stream() and never synchronizes the host.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// `batch` independent products; matrix i of A/B/C starts at A + i·stride_a (etc.), in elements.
void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                          float* C, int64_t ldc, int64_t stride_c, int64_t batch);

// 16-bit inputs and output (IEEE half or bfloat16, raw uint16 storage), f32 accumulation and
// f32 alpha/beta; tensor cores are always allowed here.
enum class Half16 { f16, bf16 };
void gemm_16(Half16 type, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
             int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc);

// y[r, c] += bias[c] for a [rows, cols] matrix with row stride ldy.
void add_row_bias(float* y, int64_t ldy, const float* bias, int64_t rows, int64_t cols);

// out[c] (+)= Σ_r g[r, c] for a [rows, cols] matrix with row stride ldg; double accumulation,
// deterministic (kernels/cuda/column_reduce.cuh).
void column_sums(const float* g, int64_t ldg, int64_t rows, int64_t cols, float* out, bool accumulate = false);

}  // namespace lowbit::cuda
