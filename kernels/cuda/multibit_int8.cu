// CUDA int8 multi-bit GEMM (kernels/cuda/multibit_gemm.h): the exact int8 tensor-core GEMM through
// cublasGemmEx. cuBLAS is
// column-major: the row-major C[M,N] = A·Bᵀ is the column-major Cᵀ[N,M] = op_T(B)·op_N(A) with
// the same buffers and strides (B and A are K-major, "TN", the layout of cuBLAS's int8 kernels).
#include <limits>

#include "core/error.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/multibit_gemm.h"

namespace lowbit::cuda {

namespace {

int to_int(int64_t v, const char* what) {
  LOWBIT_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "cuda int8_gemm: ", what, " = ", v,
               " does not fit cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}

}  // namespace

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
               int32_t* C, int64_t ldc) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && lda >= K && ldb >= K && ldc >= N, "cuda int8_gemm: bad sizes M = ", M,
               ", N = ", N, ", K = ", K, ", lda = ", lda, ", ldb = ", ldb, ", ldc = ", ldc);
  LOWBIT_CHECK(K % 16 == 0 && lda % 16 == 0 && ldb % 16 == 0 && aligned16(A, B),
               "cuda int8_gemm: K, lda and ldb must be multiples of 16 and A, B 16-byte aligned (pad the rows "
               "with zeros: codes_to_int8), got K = ", K, ", lda = ", lda, ", ldb = ", ldb);
  if (M == 0 || N == 0) return;
  if (K == 0) {
    LOWBIT_CUDA_CHECK(cudaMemset2DAsync(C, static_cast<size_t>(ldc) * sizeof(int32_t), 0,
                                        static_cast<size_t>(N) * sizeof(int32_t), static_cast<size_t>(M),
                                        current_stream()));
    return;
  }
  cublasHandle_t h = cublas_handle();
  LOWBIT_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  const int32_t one = 1, zero = 0;
  LOWBIT_CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, to_int(N, "N"), to_int(M, "M"), to_int(K, "K"), &one,
                                   B, CUDA_R_8I, to_int(ldb, "ldb"), A, CUDA_R_8I, to_int(lda, "lda"), &zero, C,
                                   CUDA_R_32I, to_int(ldc, "ldc"), CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT));
}

}  // namespace lowbit::cuda
