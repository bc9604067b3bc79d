// cuBLAS glue for kernels/cuda/gemm.h. cuBLAS is column-major: a row-major C[M,N] is a
// column-major C^T[N,M] with the same stride, and C^T = op(B)^T op(A)^T, so every call swaps the
// operands (B first) and the sizes (N, M) and keeps each operand's transpose flag. f32 products
// go through cublasGemmEx with compute type 32F (full precision), or 32F_FAST_TF32 when
// lowbit::allow_tf32() is set; the handle's math mode is reset to the default on each call so no
// one else's setting leaks in. Flops: 2·M·N·K per product.
#include "kernels/cuda/gemm.h"

#include <limits>

#include "core/error.h"
#include "core/math_mode.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace lowbit::cuda {

namespace {

int to_int(int64_t v, const char* what) {
  LOWBIT_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "cuda gemm: ", what, " = ", v,
               " does not fit cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}

cublasOperation_t op(bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

// The shared handle (bound to the current stream at creation) in the default math mode.
cublasHandle_t ready_handle() {
  cublasHandle_t h = cublas_handle();
  LOWBIT_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  return h;
}

cublasComputeType_t f32_compute() { return allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; }

// C = 0 for an empty inner dimension with beta == 0 (C may hold NaN; don't rely on beta·C).
void zero_rows(float* C, int64_t ldc, int64_t M, int64_t N) {
  LOWBIT_CUDA_CHECK(cudaMemset2DAsync(C, static_cast<size_t>(ldc) * sizeof(float), 0,
                                      static_cast<size_t>(N) * sizeof(float), static_cast<size_t>(M),
                                      current_stream()));
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0 && beta == 0.f) return zero_rows(C, ldc, M, N);
  LOWBIT_CUBLAS_CHECK(cublasGemmEx(ready_handle(), op(trans_b), op(trans_a), to_int(N, "N"), to_int(M, "M"),
                                   to_int(K, "K"), &alpha, B, CUDA_R_32F, to_int(ldb, "ldb"), A, CUDA_R_32F,
                                   to_int(lda, "lda"), &beta, C, CUDA_R_32F, to_int(ldc, "ldc"), f32_compute(),
                                   CUBLAS_GEMM_DEFAULT));
}

void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b, float beta,
                          float* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (batch == 1) return gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (K == 0 && beta == 0.f) {
    for (int64_t i = 0; i < batch; ++i) zero_rows(C + i * stride_c, ldc, M, N);
    return;
  }
  LOWBIT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      ready_handle(), op(trans_b), op(trans_a), to_int(N, "N"), to_int(M, "M"), to_int(K, "K"), &alpha, B,
      CUDA_R_32F, to_int(ldb, "ldb"), stride_b, A, CUDA_R_32F, to_int(lda, "lda"), stride_a, &beta, C, CUDA_R_32F,
      to_int(ldc, "ldc"), stride_c, to_int(batch, "batch"), f32_compute(), CUBLAS_GEMM_DEFAULT));
}

void gemm_16(Half16 type, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
             int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  LOWBIT_CHECK(K > 0 || beta != 0.f, "cuda gemm_16: empty inner dimension (K = 0) with beta = 0 is not supported");
  cudaDataType_t t = type == Half16::f16 ? CUDA_R_16F : CUDA_R_16BF;
  LOWBIT_CUBLAS_CHECK(cublasGemmEx(ready_handle(), op(trans_b), op(trans_a), to_int(N, "N"), to_int(M, "M"),
                                   to_int(K, "K"), &alpha, B, t, to_int(ldb, "ldb"), A, t, to_int(lda, "lda"), &beta,
                                   C, t, to_int(ldc, "ldc"), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace lowbit::cuda
