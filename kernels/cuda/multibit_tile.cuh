// The tiled CUDA-core GEMM shared by the SHIFT and ADDER multi-bit kernels (kernels/cuda/
// multibit_shift.cu, multibit_adder.cu): C[M,N] = Σ_k step(a[m,k], b[n,k]) with A [M, lda] and B
// codes [N, ldb] row-major, K innermost. A block of 16×16 threads owns a 128×128 tile of C, each
// thread 8×8 outputs strided by 16 (rows i·16 + ty, columns j·16 + tx: conflict-free shared-memory
// reads, 16 per 64 steps, and coalesced stores); K advances in tiles of 16 staged in shared memory
// (A as Op::AS, B decoded once per tile into Op::BS), and every output accumulates its terms in
// increasing k. Elements
// outside the matrices are staged as Op::zero_a() / Op::load_b(0), which add nothing.
// Op supplies: types AIn, AS, BS, Acc, Out; AS load_a(AIn); AS zero_a(); BS load_b(int c);
// Acc init(); Acc step(Acc, AS, BS); Out out(Acc).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace lowbit::cuda::multibit_tile {

constexpr int kBM = 128, kBN = 128, kBK = 16, kTM = 8, kTN = 8, kThreads = 256;
static_assert(kBM == kBN && kBM == 16 * kTM && kBN == 16 * kTN, "16×16 threads cover the tile; A and B stage alike");

template <class Op>
__global__ void __launch_bounds__(kThreads) k_gemm(int64_t M, int64_t N, int64_t K, const typename Op::AIn* __restrict__ A,
                                                   int64_t lda, const int8_t* __restrict__ B, int64_t ldb,
                                                   typename Op::Out* __restrict__ C, int64_t ldc) {
  using AS = typename Op::AS;
  using BS = typename Op::BS;
  using Acc = typename Op::Acc;
  __shared__ __align__(16) AS As[kBK][kBM];
  __shared__ __align__(16) BS Bs[kBK][kBN];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kBM, n0 = static_cast<int64_t>(blockIdx.x) * kBN;
  Acc acc[kTM][kTN];
#pragma unroll
  for (int i = 0; i < kTM; ++i)
#pragma unroll
    for (int j = 0; j < kTN; ++j) acc[i][j] = Op::init();
  for (int64_t k0 = 0; k0 < K; k0 += kBK) {
    // Stage: element e of the 128×16 tile is (row e % 128, k e / 128): a warp stores 32 consecutive
    // rows of one k (conflict-free), reading 32 rows of global memory (cached in L1/L2).
#pragma unroll
    for (int r = 0; r < kBM * kBK / kThreads; ++r) {
      const int e = tid + r * kThreads, row = e % kBM, col = e / kBM;
      const int64_t m = m0 + row, n = n0 + row, k = k0 + col;
      As[col][row] = (m < M && k < K) ? Op::load_a(A[m * lda + k]) : Op::zero_a();
      Bs[col][row] = Op::load_b((n < N && k < K) ? B[n * ldb + k] : 0);
    }
    __syncthreads();
#pragma unroll 4
    for (int kk = 0; kk < kBK; ++kk) {
      AS a[kTM];
      BS b[kTN];
#pragma unroll
      for (int i = 0; i < kTM; ++i) a[i] = As[kk][i * 16 + ty];
#pragma unroll
      for (int j = 0; j < kTN; ++j) b[j] = Bs[kk][j * 16 + tx];
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] = Op::step(acc[i][j], a[i], b[j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int64_t m = m0 + i * 16 + ty;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < kTN; ++j) {
      const int64_t n = n0 + j * 16 + tx;
      if (n < N) C[m * ldc + n] = Op::out(acc[i][j]);
    }
  }
}

template <class Op>
void launch(int64_t M, int64_t N, int64_t K, const typename Op::AIn* A, int64_t lda, const int8_t* B, int64_t ldb,
            typename Op::Out* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const int64_t gx = (N + kBN - 1) / kBN, gy = (M + kBM - 1) / kBM;
  LOWBIT_CHECK(gy <= 65535, "multi-bit GEMM: M = ", M, " needs more than 65535 row blocks");
  k_gemm<Op><<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), kThreads, 0, current_stream()>>>(
      M, N, K, A, lda, B, ldb, C, ldc);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda::multibit_tile
