// CPU ADDER GEMM: scalar and AVX2 register tiles in the fixed 8-lane order of multibit_adder.h,
// in the frame of multibit_tiles.h (per-term rule: adder_step in kernels/multibit_math.h).
#include "kernels/cpu/multibit_adder.h"

#include "kernels/cpu/multibit_tiles.h"
#include "kernels/multibit_math.h"

namespace lowbit::cpu {

namespace {

using Operands = GemmOperands<float, float>;

// The lanes folded left to right, then the tail terms in order.
float finish(const float* lanes, const float* a, const int8_t* c, int64_t k8, int64_t K) {
  float s = lanes[0];
  for (int64_t l = 1; l < kAdderLanes; ++l) s += lanes[l];
  for (int64_t k = k8; k < K; ++k) s = adder_step(s, a[k], pow2_code_float(c[k]));
  return s;
}

void one_scalar(const Operands& o, int64_t m, int64_t n) {
  const float* a = o.A + m * o.lda;
  const int8_t* c = o.B + n * o.ldb;
  float lanes[kAdderLanes] = {};
  const int64_t k8 = o.K / kAdderLanes * kAdderLanes;
  for (int64_t k = 0; k < k8; k += kAdderLanes)
    for (int64_t l = 0; l < kAdderLanes; ++l) lanes[l] = adder_step(lanes[l], a[k + l], pow2_code_float(c[k + l]));
  o.c(m, n) = finish(lanes, a, c, k8, o.K);
}

#if LOWBIT_MULTIBIT_X86
constexpr int kMR = 2, kNR = 4;

template <int MR, int NR>
__attribute__((target("avx2"))) void tile_avx2(const Operands& o, int64_t m, int64_t n) {
  const auto r = tile_rows<MR, NR>(o, m, n);
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  const __m256i one = _mm256_set1_epi32(1);
  const int64_t k8 = o.K / kAdderLanes * kAdderLanes;
  for (int64_t k = 0; k < k8; k += kAdderLanes) {
    __m256 a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm256_loadu_ps(r.a[i] + k);
    for (int j = 0; j < NR; ++j) {
      const __m256i c = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.b[j] + k)));
      // ±2^(|c|−1) as int32 (0 for c = 0), converted exactly: pow2_code_float per lane.
      const __m256i v = _mm256_sign_epi32(_mm256_sllv_epi32(one, _mm256_sub_epi32(_mm256_abs_epi32(c), one)), c);
      const __m256 w = _mm256_cvtepi32_ps(v);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_add_ps(acc[i][j], _mm256_mul_ps(a[i], w));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      alignas(32) float lanes[kAdderLanes];
      _mm256_store_ps(lanes, acc[i][j]);
      o.c(m + i, n + j) = finish(lanes, r.a[i], r.b[j], k8, o.K);
    }
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

void adder_gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                float* C, int64_t ldc, const MultibitCpuConfig& config) {
  run_gemm<run_rows>("adder_gemm", M, N, Operands{K, A, lda, B_codes, ldb, C, ldc}, config, 2, 8);
}

}  // namespace lowbit::cpu
