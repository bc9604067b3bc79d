// CPU int8 -> int32 GEMM: scalar, AVX2 and AVX-512 VNNI register tiles in the frame of
// multibit_tiles.h (see multibit_int8.h).
#include "kernels/cpu/multibit_int8.h"

#include <vector>

#include "kernels/cpu/multibit_tiles.h"

namespace lowbit::cpu {

namespace {

struct Operands : GemmOperands<int8_t, int32_t> {
  const int32_t* b_sums;  // Σ_k B[n,k] (AVX-512 path only)
};

int32_t dot_scalar(const int8_t* a, const int8_t* b, int64_t k0, int64_t k1) {
  int32_t s = 0;
  for (int64_t k = k0; k < k1; ++k) s += int32_t{a[k]} * int32_t{b[k]};
  return s;
}

void one_scalar(const Operands& o, int64_t m, int64_t n) {
  o.c(m, n) = dot_scalar(o.A + m * o.lda, o.B + n * o.ldb, 0, o.K);
}

#if LOWBIT_MULTIBIT_X86
constexpr int kMR = 2, kNR = 4;

template <int MR, int NR>
__attribute__((target("avx2"))) void tile_avx2(const Operands& o, int64_t m, int64_t n) {
  const auto r = tile_rows<MR, NR>(o, m, n);
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_si256();
  const int64_t k16 = o.K / 16 * 16;
  for (int64_t k = 0; k < k16; k += 16) {
    __m256i a[MR];
    for (int i = 0; i < MR; ++i)
      a[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.a[i] + k)));
    for (int j = 0; j < NR; ++j) {
      const __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.b[j] + k)));
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a[i], b));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      o.c(m + i, n + j) = hsum_epi32(acc[i][j]) + dot_scalar(r.a[i], r.b[j], k16, o.K);
}

// ---- AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes, 4 per int32 lane, so A enters
// as a ^ 0x80 = a + 128 (unsigned) and the tile subtracts 128·Σ_k b[n,k] at the end. 64 k per
// step, the last step through masked loads (A's masked bytes become 128, B's 0: no product).
constexpr int kMR512 = 4, kNR512 = 4;

template <int MR, int NR>
__attribute__((target("avx2,avx512f,avx512bw,avx512vnni"))) void tile_avx512(const Operands& o, int64_t m, int64_t n) {
  const auto r = tile_rows<MR, NR>(o, m, n);
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t k = 0; k < o.K; k += 64) {
    const __mmask64 mask = o.K - k >= 64 ? ~__mmask64{0} : (__mmask64{1} << (o.K - k)) - 1;
    __m512i a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, r.a[i] + k), flip);
    for (int j = 0; j < NR; ++j) {
      const __m512i b = _mm512_maskz_loadu_epi8(mask, r.b[j] + k);
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
      o.c(m + i, n + j) = static_cast<int32_t>(s - 128u * static_cast<uint32_t>(o.b_sums[n + j]));
    }
}
#endif

void run_rows(MultibitSimd simd, const Operands& o, int64_t N, int64_t m0, int64_t m1) {
#if LOWBIT_MULTIBIT_X86
  if (simd == MultibitSimd::avx512)
    return run_tiles<kMR512, kNR512, tile_avx512<kMR512, kNR512>, tile_avx512<1, 1>>(o, N, m0, m1);
  if (simd == MultibitSimd::avx2) return run_tiles<kMR, kNR, tile_avx2<kMR, kNR>, tile_avx2<1, 1>>(o, N, m0, m1);
#endif
  run_tiles<1, 1, one_scalar, one_scalar>(o, N, m0, m1);
}

}  // namespace

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
               int32_t* C, int64_t ldc, const MultibitCpuConfig& config) {
  Operands o{{K, A, lda, B, ldb, C, ldc}, nullptr};
  std::vector<int32_t> b_sums;
  run_gemm<run_rows>("int8_gemm", M, N, o, config, 4, 16, [&](MultibitSimd simd) {
    if (simd != MultibitSimd::avx512) return;
    b_sums.resize(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) b_sums[n] += B[n * ldb + k];
    o.b_sums = b_sums.data();  // o is the object run_gemm holds by reference
  });
}

}  // namespace lowbit::cpu
