// CPU SHIFT GEMM: scalar and AVX2 register tiles over the blocked walk of multibit_parallel.h
// (see multibit_shift.h; the per-element rule is shift_term in kernels/multibit_math.h).
#include "kernels/cpu/multibit_shift.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWBIT_MULTIBIT_X86 1
#endif

#include "kernels/cpu/multibit_parallel.h"
#include "kernels/multibit_math.h"

namespace lowbit::cpu {

namespace {

struct Operands {
  int64_t K;
  const int8_t* A;
  int64_t lda;
  const int8_t* B;
  int64_t ldb;
  int32_t* C;
  int64_t ldc;
};

int32_t dot_scalar(const int8_t* a, const int8_t* c, int64_t k0, int64_t k1) {
  uint32_t s = 0;  // wraps like the int32 lanes (never does within the caller's range check)
  for (int64_t k = k0; k < k1; ++k) s += static_cast<uint32_t>(shift_term(a[k], c[k]));
  return static_cast<int32_t>(s);
}

void one_scalar(const Operands& o, int64_t m, int64_t n) {
  o.C[m * o.ldc + n] = dot_scalar(o.A + m * o.lda, o.B + n * o.ldb, 0, o.K);
}

#if LOWBIT_MULTIBIT_X86
constexpr int kMR = 2, kNR = 4;

__attribute__((target("avx2"))) inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) inline __m256i load8(const int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

template <int MR, int NR>
__attribute__((target("avx2"))) void tile_avx2(const Operands& o, int64_t m, int64_t n) {
  const int8_t* a_row[MR];
  const int8_t* b_row[NR];
  for (int i = 0; i < MR; ++i) a_row[i] = o.A + (m + i) * o.lda;
  for (int j = 0; j < NR; ++j) b_row[j] = o.B + (n + j) * o.ldb;
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  const int64_t k8 = o.K / 8 * 8;
  for (int64_t k = 0; k < k8; k += 8) {
    __m256i a[MR];
    for (int i = 0; i < MR; ++i) a[i] = load8(a_row[i] + k);
    for (int j = 0; j < NR; ++j) {
      const __m256i c = load8(b_row[j] + k);
      const __m256i t = _mm256_sub_epi32(_mm256_abs_epi32(c), one);  // c = 0: count 2^32 − 1 -> 0
      for (int i = 0; i < MR; ++i)
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_sign_epi32(_mm256_sllv_epi32(a[i], t), c));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      o.C[(m + i) * o.ldc + n + j] = hsum(acc[i][j]) + dot_scalar(a_row[i], b_row[j], k8, o.K);
}
#endif

void run_rows(bool avx2, const Operands& o, int64_t N, int64_t m0, int64_t m1) {
#if LOWBIT_MULTIBIT_X86
  if (avx2)
    return blocked_tiles<kMR, kNR>(
        m0, m1, N, o.K, [&](int64_t m, int64_t n) { tile_avx2<kMR, kNR>(o, m, n); },
        [&](int64_t m, int64_t n) { tile_avx2<1, 1>(o, m, n); });
#endif
  blocked_tiles<1, 1>(m0, m1, N, o.K, [&](int64_t m, int64_t n) { one_scalar(o, m, n); },
                      [&](int64_t m, int64_t n) { one_scalar(o, m, n); });
}

}  // namespace

void shift_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                int32_t* C, int64_t ldc, const MultibitCpuConfig& config) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && lda >= K && ldb >= K && ldc >= N, "shift_gemm: bad sizes M = ", M,
               ", N = ", N, ", K = ", K, ", lda = ", lda, ", ldb = ", ldb, ", ldc = ", ldc);
  if (M == 0 || N == 0) return;
  const bool avx2 = resolve_multibit_simd(config.simd) != MultibitSimd::scalar;  // avx512 runs the AVX2 tiles
  const Operands o{K, A, lda, B_codes, ldb, C, ldc};
  parallel_rows(M, 2, M * N * std::max<int64_t>(K / 8, 1), config.threads,
                [&](int64_t m0, int64_t m1) { run_rows(avx2, o, N, m0, m1); });
}

}  // namespace lowbit::cpu
