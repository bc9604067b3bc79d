// The frame shared by the CPU multi-bit GEMMs (int8, shift, adder: C[M,N] = Σ_k f(A[m,k], B[n,k])
// with B int8 codes): their operands, the register-tile skeleton (the rows a tile reads, the AVX2
// horizontal sum), the walk of a kernel's tiles over rows of C, and the checked, threaded top level
// (multibit_parallel.h). Each kernel file keeps only its per-element math and its tiles.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWBIT_MULTIBIT_X86 1
#endif

#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "kernels/cpu/multibit_config.h"
#include "kernels/cpu/multibit_parallel.h"

namespace lowbit::cpu {

// A [M,K] of TA, B [N,K] of int8 codes, C [M,N] of TC; row strides lda, ldb, ldc.
template <typename TA, typename TC>
struct GemmOperands {
  int64_t K;
  const TA* A;
  int64_t lda;
  const int8_t* B;
  int64_t ldb;
  TC* C;
  int64_t ldc;

  TC& c(int64_t m, int64_t n) const { return C[m * ldc + n]; }
};

// The MR rows of A and NR rows of B that the MR×NR tile at C(m, n) reads.
template <int MR, int NR, typename TA>
struct TileRows {
  const TA* a[MR];
  const int8_t* b[NR];
};

template <int MR, int NR, typename TA, typename TC>
TileRows<MR, NR, TA> tile_rows(const GemmOperands<TA, TC>& o, int64_t m, int64_t n) {
  TileRows<MR, NR, TA> r;
  for (int i = 0; i < MR; ++i) r.a[i] = o.A + (m + i) * o.lda;
  for (int j = 0; j < NR; ++j) r.b[j] = o.B + (n + j) * o.ldb;
  return r;
}

#if LOWBIT_MULTIBIT_X86
// The sum of the 8 int32 lanes (wrapping).
__attribute__((target("avx2"))) inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}
#endif

// Rows [m0, m1) of C in MR×NR register tiles: Full(o, m, n) for each whole tile, Edge(o, m, n)
// for each element left over (blocked_tiles; a row of B is K bytes).
template <int MR, int NR, auto Full, auto Edge, typename Ops>
void run_tiles(const Ops& o, int64_t N, int64_t m0, int64_t m1) {
  blocked_tiles<MR, NR>(
      m0, m1, N, o.K, [&](int64_t m, int64_t n) { Full(o, m, n); }, [&](int64_t m, int64_t n) { Edge(o, m, n); });
}

// The top level of a multi-bit GEMM: its sizes checked (`name` leads the error), nothing to do for
// an empty C, else the SIMD path resolved from config, prepare(simd) once (per-GEMM setup), and
// the rows of C split over threads in whole tiles of row_tile rows (M·N·max(K/k_step, 1) inner
// steps of work), RunRows(simd, o, N, m0, m1) on each range.
template <auto RunRows, typename Ops, typename Prepare = void (*)(MultibitSimd)>
void run_gemm(const char* name, int64_t M, int64_t N, const Ops& o, const MultibitCpuConfig& config, int64_t row_tile,
              int64_t k_step, Prepare prepare = [](MultibitSimd) {}) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && o.K >= 0 && o.lda >= o.K && o.ldb >= o.K && o.ldc >= N, name, ": bad sizes M = ", M,
               ", N = ", N, ", K = ", o.K, ", lda = ", o.lda, ", ldb = ", o.ldb, ", ldc = ", o.ldc);
  if (M == 0 || N == 0) return;
  const MultibitSimd simd = resolve_multibit_simd(config.simd);
  prepare(simd);
  parallel_rows(M, row_tile, M * N * std::max<int64_t>(o.K / k_step, 1), config.threads,
                [&](int64_t m0, int64_t m1) { RunRows(simd, o, N, m0, m1); });
}

}  // namespace lowbit::cpu
