// CPU GEMM for f32 (a thin wrapper over OpenBLAS cblas_sgemm) and the two GEMM epilogues the
// matrix-product and convolution ops share: adding a bias to every row, and its gradient (column
// sums). All matrices are row-major; lda/ldb/ldc are row strides in elements.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// C[M,N] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T. op(A) is [M,K], op(B) is [K,N]:
// A is stored [M,K] (or [K,M] when trans_a), B is stored [K,N] (or [N,K] when trans_b).
// With beta == 0, C is overwritten (its old contents, NaN included, are ignored).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// y[r, c] += bias[c] for a [rows, cols] matrix with row stride ldy.
void add_row_bias(float* y, int64_t ldy, const float* bias, int64_t rows, int64_t cols);

// out[c] (+)= sum_r g[r, c] for a [rows, cols] matrix with row stride ldg; accumulates in double.
// With accumulate, adds to out; otherwise overwrites it.
void column_sums(const float* g, int64_t ldg, int64_t rows, int64_t cols, float* out, bool accumulate = false);

}  // namespace lowbit::cpu
