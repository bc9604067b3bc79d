// CPU SHIFT GEMM: scalar and AVX2 register tiles in the frame of multibit_tiles.h
// (see multibit_shift.h; the per-element rule is shift_term in kernels/multibit_math.h).
#include "kernels/cpu/multibit_shift.h"

#include "kernels/cpu/multibit_tiles.h"
#include "kernels/multibit_math.h"

namespace lowbit::cpu {

namespace {

using Operands = GemmOperands<int8_t, int32_t>;

int32_t dot_scalar(const int8_t* a, const int8_t* c, int64_t k0, int64_t k1) {
  uint32_t s = 0;  // wraps like the int32 lanes (never does within the caller's range check)
  for (int64_t k = k0; k < k1; ++k) s += static_cast<uint32_t>(shift_term(a[k], c[k]));
  return static_cast<int32_t>(s);
}

void one_scalar(const Operands& o, int64_t m, int64_t n) {
  o.c(m, n) = dot_scalar(o.A + m * o.lda, o.B + n * o.ldb, 0, o.K);
}

#if LOWBIT_MULTIBIT_X86
constexpr int kMR = 2, kNR = 4;

__attribute__((target("avx2"))) inline __m256i load8(const int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

template <int MR, int NR>
__attribute__((target("avx2"))) void tile_avx2(const Operands& o, int64_t m, int64_t n) {
  const auto r = tile_rows<MR, NR>(o, m, n);
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  const int64_t k8 = o.K / 8 * 8;
  for (int64_t k = 0; k < k8; k += 8) {
    __m256i a[MR];
    for (int i = 0; i < MR; ++i) a[i] = load8(r.a[i] + k);
    for (int j = 0; j < NR; ++j) {
      const __m256i c = load8(r.b[j] + k);
      const __m256i t = _mm256_sub_epi32(_mm256_abs_epi32(c), one);  // c = 0: count 2^32 − 1 -> 0
      for (int i = 0; i < MR; ++i)
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_sign_epi32(_mm256_sllv_epi32(a[i], t), c));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      o.c(m + i, n + j) = hsum_epi32(acc[i][j]) + dot_scalar(r.a[i], r.b[j], k8, o.K);
}
#endif

void run_rows(MultibitSimd simd, const Operands& o, int64_t N, int64_t m0, int64_t m1) {
#if LOWBIT_MULTIBIT_X86
  if (simd != MultibitSimd::scalar)  // avx512 runs the AVX2 tiles
    return run_tiles<kMR, kNR, tile_avx2<kMR, kNR>, tile_avx2<1, 1>>(o, N, m0, m1);
#endif
  run_tiles<1, 1, one_scalar, one_scalar>(o, N, m0, m1);
}

}  // namespace

void shift_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                int32_t* C, int64_t ldc, const MultibitCpuConfig& config) {
  run_gemm<run_rows>("shift_gemm", M, N, Operands{K, A, lda, B_codes, ldb, C, ldc}, config, 2, 8);
}

}  // namespace lowbit::cpu
