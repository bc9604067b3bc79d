// Binary GEMM on the CPU: the path choice, register tiles (scalar, AVX-512), the blocking loop, and
// the M split over std::threads; the AVX2 path lives in xnor_gemm_avx2.cpp. See xnor_gemm.h.
#include "kernels/cpu/xnor_gemm.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWBIT_XNOR_X86 1
#endif

#include "core/error.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/xnor_gemm_avx2.h"

namespace lowbit::cpu {

namespace {

constexpr int64_t kL2BlockBytes = int64_t{384} << 10;  // B block budget (stays in L2)
constexpr int64_t kMinWordPairsPerThread = int64_t{1} << 18;  // below this, one thread

struct Operands {
  int64_t kw, k_bits;
  const uint32_t* A;
  int64_t lda;
  const uint32_t* B;
  int64_t ldb;
  int32_t* C;
  int64_t ldc;
};

// popc(a XOR b) over words [w0, kw) of one row pair, two words at a time.
int64_t popc_xor_words(const uint32_t* a, const uint32_t* b, int64_t w0, int64_t kw) {
  int64_t popc = 0, w = w0;
  for (; w + 2 <= kw; w += 2) {
    uint64_t x, y;
    std::memcpy(&x, a + w, 8);
    std::memcpy(&y, b + w, 8);
    popc += std::popcount(x ^ y);
  }
  if (w < kw) popc += std::popcount(a[w] ^ b[w]);
  return popc;
}

// ---- scalar path: an MR×NR tile of C, 64 bits per step.
template <int MR, int NR>
void tile_scalar(const Operands& o, int64_t m, int64_t n) {
  int64_t popc[MR][NR] = {};
  int64_t w = 0;
  for (; w + 2 <= o.kw; w += 2) {
    uint64_t a[MR];
    for (int i = 0; i < MR; ++i) std::memcpy(&a[i], o.A + (m + i) * o.lda + w, 8);
    for (int j = 0; j < NR; ++j) {
      uint64_t b;
      std::memcpy(&b, o.B + (n + j) * o.ldb + w, 8);
      for (int i = 0; i < MR; ++i) popc[i][j] += std::popcount(a[i] ^ b);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      int64_t p = popc[i][j] + popc_xor_words(o.A + (m + i) * o.lda, o.B + (n + j) * o.ldb, w, o.kw);
      o.C[(m + i) * o.ldc + n + j] = xnor_dot(o.k_bits, p);
    }
}

#if LOWBIT_XNOR_X86
// ---- AVX-512 path (where the CPU has VPOPCNTDQ): 512 bits per step, a 64-bit popcount per lane,
// the last partial step through a masked load (the words past kw read as 0).
template <int MR, int NR>
__attribute__((target("avx512f,avx512vpopcntdq"))) void tile_avx512(const Operands& o, int64_t m, int64_t n) {
  const uint32_t* a_row[MR];
  const uint32_t* b_row[NR];
  for (int i = 0; i < MR; ++i) a_row[i] = o.A + (m + i) * o.lda;
  for (int j = 0; j < NR; ++j) b_row[j] = o.B + (n + j) * o.ldb;
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  for (int64_t w = 0; w < o.kw; w += 16) {
    const __mmask16 mask = o.kw - w >= 16 ? __mmask16(0xffff) : __mmask16((1u << (o.kw - w)) - 1u);
    __m512i a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm512_maskz_loadu_epi32(mask, a_row[i] + w);
    for (int j = 0; j < NR; ++j) {
      const __m512i b = _mm512_maskz_loadu_epi32(mask, b_row[j] + w);
      for (int i = 0; i < MR; ++i)
        acc[i][j] = _mm512_add_epi64(acc[i][j], _mm512_popcnt_epi64(_mm512_xor_si512(a[i], b)));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      alignas(64) int64_t lanes[8];  // (a store, not _mm512_reduce_add_epi64: GCC 12's warns)
      _mm512_store_si512(lanes, acc[i][j]);
      int64_t p = 0;
      for (int64_t l : lanes) p += l;
      o.C[(m + i) * o.ldc + n + j] = xnor_dot(o.k_bits, p);
    }
}
#endif

using TileFn = void (*)(const Operands&, int64_t, int64_t);

struct Kernel {
  int mr, nr;
  TileFn full, one;  // the MR×NR tile and the 1×1 edge tile
};

Kernel kernel_for(XnorPath path) {
#if LOWBIT_XNOR_X86
  if (path == XnorPath::avx512) return {3, 4, tile_avx512<3, 4>, tile_avx512<1, 1>};
#endif
  return {2, 3, tile_scalar<2, 3>, tile_scalar<1, 1>};
}

// Rows [m0, m1) of C: B in L2-sized blocks, the rows of A streaming past each block.
void run_rows(const Kernel& k, const Operands& o, int64_t N, int64_t m0, int64_t m1) {
  int64_t row_bytes = std::max<int64_t>(o.kw * 4, 1);
  int64_t nb = std::max<int64_t>(k.nr, (kL2BlockBytes / row_bytes) / k.nr * k.nr);
  for (int64_t n0 = 0; n0 < N; n0 += nb) {
    int64_t n1 = std::min(N, n0 + nb);
    int64_t m = m0;
    for (; m + k.mr <= m1; m += k.mr) {
      int64_t n = n0;
      for (; n + k.nr <= n1; n += k.nr) k.full(o, m, n);
      for (; n < n1; ++n)
        for (int i = 0; i < k.mr; ++i) k.one(o, m + i, n);
    }
    for (; m < m1; ++m)
      for (int64_t n = n0; n < n1; ++n) k.one(o, m, n);
  }
}

std::atomic<int> g_threads{0};

int hardware_threads() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace

bool xnor_avx2_supported() {
#if LOWBIT_XNOR_X86
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool xnor_avx512_supported() {
#if LOWBIT_XNOR_X86
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
#else
  return false;
#endif
}

XnorPath resolve_xnor_path(XnorPath path) {
  if (path == XnorPath::automatic)
    return xnor_avx512_supported() ? XnorPath::avx512 : xnor_avx2_supported() ? XnorPath::avx2 : XnorPath::scalar;
  LOWBIT_CHECK(path != XnorPath::avx512 || xnor_avx512_supported(), "xnor_gemm: the AVX-512 path was requested but "
               "this CPU (or build) has no AVX-512 VPOPCNTDQ");
  LOWBIT_CHECK(path != XnorPath::avx2 || xnor_avx2_supported(), "xnor_gemm: the AVX2 path was requested but this CPU "
               "(or build) has no AVX2");
  return path;
}

void set_xnor_threads(int threads) { g_threads.store(threads > 0 ? threads : 0); }
int xnor_threads() {
  int t = g_threads.load();
  return t > 0 ? t : hardware_threads();
}

void xnor_gemm(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda, const uint32_t* B,
               int64_t ldb, int32_t* C, int64_t ldc, const XnorGemmConfig& config) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && kw >= 0 && k_bits >= 0 && k_bits <= kw * kBitsPerWord,
               "xnor_gemm: bad sizes M = ", M, ", N = ", N, ", kw = ", kw, ", k_bits = ", k_bits);
  if (M == 0 || N == 0) return;
  const XnorPath path = resolve_xnor_path(config.path);
  int64_t threads = config.threads > 0 ? config.threads : xnor_threads();
  int64_t work = M * N * std::max<int64_t>(kw, 1);
  threads = std::clamp<int64_t>(std::min(threads, work / kMinWordPairsPerThread), 1, std::max(M, N));
#if LOWBIT_XNOR_X86
  if (path == XnorPath::avx2)
    return detail::xnor_gemm_avx2(M, N, kw, k_bits, A, lda, B, ldb, C, ldc, static_cast<int>(threads));
#endif
  Kernel k = kernel_for(path);
  Operands o{kw, k_bits, A, lda, B, ldb, C, ldc};
  threads = std::min<int64_t>(threads, (M + k.mr - 1) / k.mr);
  if (threads == 1) return run_rows(k, o, N, 0, M);
  // Contiguous row ranges in whole tiles; the calling thread takes the last one.
  int64_t tiles = (M + k.mr - 1) / k.mr;  // (mr differs per path)
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t) {
    int64_t m0 = std::min(M, tiles * t / threads * k.mr), m1 = std::min(M, tiles * (t + 1) / threads * k.mr);
    if (t + 1 == threads) run_rows(k, o, N, m0, m1);
    else pool.emplace_back([=] { run_rows(k, o, N, m0, m1); });
  }
  for (auto& th : pool) th.join();
}

}  // namespace lowbit::cpu
