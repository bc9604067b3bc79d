// CPU int8 -> int32 GEMM: scalar, AVX2 and AVX-512 VNNI register tiles over the blocked walk of
// multibit_parallel.h (see multibit_int8.h).
#include "kernels/cpu/multibit_int8.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWBIT_MULTIBIT_X86 1
#endif

#include <vector>

#include "kernels/cpu/multibit_parallel.h"

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
  const int32_t* b_sums;  // Σ_k B[n,k] (AVX-512 path only)
};

int32_t dot_scalar(const int8_t* a, const int8_t* b, int64_t k0, int64_t k1) {
  int32_t s = 0;
  for (int64_t k = k0; k < k1; ++k) s += int32_t{a[k]} * int32_t{b[k]};
  return s;
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

template <int MR, int NR>
__attribute__((target("avx2"))) void tile_avx2(const Operands& o, int64_t m, int64_t n) {
  const int8_t* a_row[MR];
  const int8_t* b_row[NR];
  for (int i = 0; i < MR; ++i) a_row[i] = o.A + (m + i) * o.lda;
  for (int j = 0; j < NR; ++j) b_row[j] = o.B + (n + j) * o.ldb;
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_si256();
  const int64_t k16 = o.K / 16 * 16;
  for (int64_t k = 0; k < k16; k += 16) {
    __m256i a[MR];
    for (int i = 0; i < MR; ++i)
      a[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a_row[i] + k)));
    for (int j = 0; j < NR; ++j) {
      const __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b_row[j] + k)));
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a[i], b));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      o.C[(m + i) * o.ldc + n + j] = hsum(acc[i][j]) + dot_scalar(a_row[i], b_row[j], k16, o.K);
}

// ---- AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes, 4 per int32 lane, so A enters
// as a ^ 0x80 = a + 128 (unsigned) and the tile subtracts 128·Σ_k b[n,k] at the end. 64 k per
// step, the last step through masked loads (A's masked bytes become 128, B's 0: no product).
constexpr int kMR512 = 4, kNR512 = 4;

template <int MR, int NR>
__attribute__((target("avx2,avx512f,avx512bw,avx512vnni"))) void tile_avx512(const Operands& o, int64_t m, int64_t n) {
  const int8_t* a_row[MR];
  const int8_t* b_row[NR];
  for (int i = 0; i < MR; ++i) a_row[i] = o.A + (m + i) * o.lda;
  for (int j = 0; j < NR; ++j) b_row[j] = o.B + (n + j) * o.ldb;
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t k = 0; k < o.K; k += 64) {
    const __mmask64 mask = o.K - k >= 64 ? ~__mmask64{0} : (__mmask64{1} << (o.K - k)) - 1;
    __m512i a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a_row[i] + k), flip);
    for (int j = 0; j < NR; ++j) {
      const __m512i b = _mm512_maskz_loadu_epi8(mask, b_row[j] + k);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a[i], b);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      alignas(64) int32_t lanes[16];
      _mm512_store_si512(lanes, acc[i][j]);
      // Modulo 2^32 (the lanes wrap like this when K·255·128 passes 2^31): exact whenever the
      // true sum fits int32, which the caller guarantees.
      uint32_t s = 0;
      for (int32_t l : lanes) s += static_cast<uint32_t>(l);
      o.C[(m + i) * o.ldc + n + j] = static_cast<int32_t>(s - 128u * static_cast<uint32_t>(o.b_sums[n + j]));
    }
}
#endif

void run_rows(MultibitSimd simd, const Operands& o, int64_t N, int64_t m0, int64_t m1) {
#if LOWBIT_MULTIBIT_X86
  if (simd == MultibitSimd::avx512)
    return blocked_tiles<kMR512, kNR512>(
        m0, m1, N, o.K, [&](int64_t m, int64_t n) { tile_avx512<kMR512, kNR512>(o, m, n); },
        [&](int64_t m, int64_t n) { tile_avx512<1, 1>(o, m, n); });
  if (simd == MultibitSimd::avx2)
    return blocked_tiles<kMR, kNR>(
        m0, m1, N, o.K, [&](int64_t m, int64_t n) { tile_avx2<kMR, kNR>(o, m, n); },
        [&](int64_t m, int64_t n) { tile_avx2<1, 1>(o, m, n); });
#endif
  blocked_tiles<1, 1>(m0, m1, N, o.K, [&](int64_t m, int64_t n) { one_scalar(o, m, n); },
                      [&](int64_t m, int64_t n) { one_scalar(o, m, n); });
}

}  // namespace

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
               int32_t* C, int64_t ldc, const MultibitCpuConfig& config) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && lda >= K && ldb >= K && ldc >= N, "int8_gemm: bad sizes M = ", M,
               ", N = ", N, ", K = ", K, ", lda = ", lda, ", ldb = ", ldb, ", ldc = ", ldc);
  if (M == 0 || N == 0) return;
  const MultibitSimd simd = resolve_multibit_simd(config.simd);
  std::vector<int32_t> b_sums;
  if (simd == MultibitSimd::avx512) {
    b_sums.resize(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) b_sums[n] += B[n * ldb + k];
  }
  const Operands o{K, A, lda, B, ldb, C, ldc, b_sums.data()};
  parallel_rows(M, 4, M * N * std::max<int64_t>(K / 16, 1), config.threads,
                [&](int64_t m0, int64_t m1) { run_rows(simd, o, N, m0, m1); });
}

}  // namespace lowbit::cpu
