// CPU GEMM through OpenBLAS. Napkin math for C[M,N] = A[M,K] B[K,N]: 2*M*N*K flops over
// 4*(M*K + K*N + M*N) bytes, so compute-bound once M, N, K reach a few dozen; OpenBLAS packs and
// blocks for the caches. The epilogues (row bias, column sums) are one pass over C each:
// memory-bound, 4 bytes read (and written, for the bias) per element.
#include "kernels/cpu/gemm.h"

#include <cblas.h>

#include <vector>

#include "kernels/gemm_math.h"

namespace lowbit::cpu {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // empty sum: C = beta * C (BLAS would do the same, but rejects lda = 0)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, A,
              static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C, static_cast<blasint>(ldc));
}

void add_row_bias(float* y, int64_t ldy, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * ldy;
    for (int64_t c = 0; c < cols; ++c) row[c] = bias_add(row[c], bias[c]);
  }
}

void column_sums(const float* g, int64_t ldg, int64_t rows, int64_t cols, float* out, bool accumulate) {
  std::vector<double> acc(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = g + r * ldg;
    for (int64_t c = 0; c < cols; ++c) acc[static_cast<size_t>(c)] += row[c];
  }
  for (int64_t c = 0; c < cols; ++c) out[c] = column_sum_value(acc[static_cast<size_t>(c)], out[c], accumulate);
}

}  // namespace lowbit::cpu
