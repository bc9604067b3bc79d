// The AVX2 table-lookup binary GEMM (see xnor_gemm_avx2.h for the method and the napkin math):
// the per-byte tables, the panel packing of B, the 6×32 register tile and the thread split.
#include "kernels/cpu/xnor_gemm_avx2.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "kernels/bit_math.h"

#define LOWBIT_AVX2 __attribute__((target("avx2")))
#define LOWBIT_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

namespace lowbit::cpu::detail {

namespace {

constexpr int kRows = 6;                  // rows of A per register tile
constexpr int64_t kPanelRows = 32;        // rows of B per panel (two groups of 16)
constexpr int64_t kEntryBytes = 64;       // panel bytes per byte of K
constexpr int64_t kRun = 63;              // steps per byte-counter run: 63·4 ≤ 255
constexpr int64_t kChunk = 256 * kRun;    // steps per 16-bit run: 256·252 ≤ 65535
constexpr int64_t kGroupBytes = int64_t{256} << 10;  // packed panels one thread works on (L2)

// kTable.t[v]: lane 0 = popc((v & 15) ^ j), lane 1 = popc((v >> 4) ^ j), j = 0..15.
struct Tables {
  alignas(64) uint8_t t[256][32];
};
constexpr Tables make_tables() {
  Tables tab{};
  for (unsigned v = 0; v < 256; ++v)
    for (unsigned j = 0; j < 16; ++j) {
      tab.t[v][j] = static_cast<uint8_t>(std::popcount((v & 15u) ^ j));
      tab.t[v][16 + j] = static_cast<uint8_t>(std::popcount((v >> 4) ^ j));
    }
  return tab;
}
constexpr Tables kTable = make_tables();

// ---- packing

// The 16×16 byte transpose: four perfect shuffles (x[i] with x[i + 8], interleaved bytewise).
LOWBIT_AVX2_INLINE void transpose16(__m128i x[16]) {
  for (int stage = 0; stage < 4; ++stage) {
    __m128i y[16];
    for (int i = 0; i < 8; ++i) {
      y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + 8]);
      y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + 8]);
    }
    for (int i = 0; i < 16; ++i) x[i] = y[i];
  }
}

// Packs the `rows` (≤ 32) rows of B starting at `b` (row stride ldb bytes, `steps` bytes each; zero
// rows past `rows`) into the panel: entry s = 64 bytes, group g at 32·g: [low nibbles of byte s of
// rows 16g..16g+15 | their high nibbles]. Entries are written in blocks of 16 (the panel holds
// steps rounded up to 16; the extra entries are never read).
LOWBIT_AVX2 void pack_panel(const uint8_t* b, int64_t ldb, int64_t rows, int64_t steps, uint8_t* panel) {
  const __m128i low = _mm_set1_epi8(0x0f);
  for (int64_t s0 = 0; s0 < steps; s0 += 16) {
    const int64_t valid = std::min<int64_t>(16, steps - s0);
    for (int g = 0; g < 2; ++g) {
      __m128i x[16];
      for (int r = 0; r < 16; ++r) {
        const int64_t row = 16 * g + r;
        if (row >= rows) {
          x[r] = _mm_setzero_si128();
        } else if (valid == 16) {
          x[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + row * ldb + s0));
        } else {
          alignas(16) uint8_t tail[16] = {};
          std::memcpy(tail, b + row * ldb + s0, static_cast<size_t>(valid));
          x[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
        }
      }
      transpose16(x);  // x[s]: byte s0 + s of rows 16g..16g+15
      for (int s = 0; s < 16; ++s) {
        __m128i* e = reinterpret_cast<__m128i*>(panel + (s0 + s) * kEntryBytes + 32 * g);
        _mm_store_si128(e, _mm_and_si128(x[s], low));
        _mm_store_si128(e + 1, _mm_and_si128(_mm_srli_epi16(x[s], 4), low));
      }
    }
  }
}

// ---- the register tile

// Two byte-counter registers of one row of A: c_g += vpshufb(table of the A byte, b_g), g = 0, 1.
// In asm so that GCC cannot hoist the next row's table load above these adds: with the intrinsics
// it does, runs out of the 16 ymm registers and spills the counters. The table is addressed as
// base + 32·byte (one shift, no add: ~10% faster here than the intrinsics' address arithmetic).
LOWBIT_AVX2_INLINE void accumulate(__m256i& c0, __m256i& c1, uint8_t a_byte, __m256i b0, __m256i b1) {
  __m256i t, x;
  asm("vmovdqa (%[tables],%[offset]), %[t]\n\t"
      "vpshufb %[b0], %[t], %[x]\n\t"
      "vpshufb %[b1], %[t], %[t]\n\t"
      "vpaddb %[x], %[c0], %[c0]\n\t"
      "vpaddb %[t], %[c1], %[c1]"
      : [c0] "+x"(c0), [c1] "+x"(c1), [t] "=&x"(t), [x] "=&x"(x)
      : [tables] "r"(kTable.t), [offset] "r"(uint64_t{a_byte} * sizeof(kTable.t[0])), [b0] "x"(b0), [b1] "x"(b1),
        "m"(kTable));
}

// Widens one row's byte counters into its 16-bit sums: part[g][0..15] = bytes 0..7 of each lane of
// group g (rows 0..7: low nibbles, then high nibbles), part[g][16..31] = bytes 8..15 (rows 8..15).
LOWBIT_AVX2_INLINE void widen(uint16_t (*part)[32], __m256i c0, __m256i c1) {
  const __m256i z = _mm256_setzero_si256();
  const __m256i c[2] = {c0, c1};
  for (int g = 0; g < 2; ++g) {
    __m256i* p = reinterpret_cast<__m256i*>(part[g]);
    _mm256_store_si256(p, _mm256_add_epi16(_mm256_load_si256(p), _mm256_unpacklo_epi8(c[g], z)));
    _mm256_store_si256(p + 1, _mm256_add_epi16(_mm256_load_si256(p + 1), _mm256_unpackhi_epi8(c[g], z)));
  }
}

// Steps [s0, s1) (at most kRun) of R rows of A against a panel, added to part[R][2][32].
// Separate named registers (not an array), in a function of its own: GCC keeps them in registers
// only that way.
template <int R>
__attribute__((target("avx2"), noinline)) void run(const uint8_t* const* a, const uint8_t* panel, int64_t s0,
                                                   int64_t s1, uint16_t (*part)[2][32]) {
  static_assert(R >= 1 && R <= kRows);
  const uint8_t* a0 = a[0];
  const uint8_t* a1 = a[std::min(1, R - 1)];
  const uint8_t* a2 = a[std::min(2, R - 1)];
  const uint8_t* a3 = a[std::min(3, R - 1)];
  const uint8_t* a4 = a[std::min(4, R - 1)];
  const uint8_t* a5 = a[std::min(5, R - 1)];
  const __m256i z = _mm256_setzero_si256();
  __m256i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int64_t s = s0; s < s1; ++s) {
    const __m256i* e = reinterpret_cast<const __m256i*>(panel + s * kEntryBytes);
    const __m256i b0 = _mm256_load_si256(e), b1 = _mm256_load_si256(e + 1);
    accumulate(c00, c01, a0[s], b0, b1);
    if constexpr (R > 1) accumulate(c10, c11, a1[s], b0, b1);
    if constexpr (R > 2) accumulate(c20, c21, a2[s], b0, b1);
    if constexpr (R > 3) accumulate(c30, c31, a3[s], b0, b1);
    if constexpr (R > 4) accumulate(c40, c41, a4[s], b0, b1);
    if constexpr (R > 5) accumulate(c50, c51, a5[s], b0, b1);
  }
  widen(part[0], c00, c01);
  if constexpr (R > 1) widen(part[1], c10, c11);
  if constexpr (R > 2) widen(part[2], c20, c21);
  if constexpr (R > 3) widen(part[3], c30, c31);
  if constexpr (R > 4) widen(part[4], c40, c41);
  if constexpr (R > 5) widen(part[5], c50, c51);
}

// Adds the 16-bit sums of one row into its 32 totals: per row of B, its low-nibble and high-nibble
// sums (each ≤ 256·252 = 64512, so they are added only after widening to 32 bits).
LOWBIT_AVX2_INLINE void add_part(int32_t* total, const uint16_t (*part)[32]) {
  for (int g = 0; g < 2; ++g)
    for (int h = 0; h < 2; ++h) {  // rows 8h..8h+7 of group g
      const __m128i* p = reinterpret_cast<const __m128i*>(part[g] + 16 * h);
      const __m256i sum = _mm256_add_epi32(_mm256_cvtepu16_epi32(_mm_load_si128(p)),
                                           _mm256_cvtepu16_epi32(_mm_load_si128(p + 1)));
      __m256i* t = reinterpret_cast<__m256i*>(total + 16 * g + 8 * h);
      _mm256_storeu_si256(t, _mm256_add_epi32(_mm256_loadu_si256(t), sum));
    }
}

// C rows a[0..R) × the panel's first `cols` columns (C row stride ldc).
template <int R>
LOWBIT_AVX2 void tile(const uint8_t* const* a, const uint8_t* panel, int64_t steps, int64_t k_bits, int32_t* c,
                      int64_t ldc, int64_t cols) {
  alignas(32) int32_t total[R][kPanelRows] = {};
  for (int64_t c0 = 0; c0 < steps; c0 += kChunk) {
    alignas(32) uint16_t part[R][2][32] = {};
    const int64_t c1 = std::min(steps, c0 + kChunk);
    for (int64_t s0 = c0; s0 < c1; s0 += kRun) run<R>(a, panel, s0, std::min(c1, s0 + kRun), part);
    for (int i = 0; i < R; ++i) add_part(total[i], part[i]);
  }
  for (int i = 0; i < R; ++i)
    for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = xnor_dot(k_bits, total[i][j]);
}

using TileFn = void (*)(const uint8_t* const*, const uint8_t*, int64_t, int64_t, int32_t*, int64_t, int64_t);
constexpr TileFn kTiles[kRows + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

struct Problem {
  int64_t M, N, steps, k_bits;
  const uint8_t* A;  // rows lda bytes apart
  int64_t lda;
  const uint8_t* B;
  int64_t ldb;
  int32_t* C;
  int64_t ldc;
};

// One thread's share: rows [m0, m1) of C against the groups of `group` panels that next_group()
// hands out (their first panel; until it returns one past the last), packed into this thread's
// own buffer. A tile of A rows meets every panel of the group while it is in L1, so A streams
// from memory once per group, not once per panel.
template <typename NextGroup>
void work(const Problem& q, NextGroup&& next_group, int64_t group, int64_t panels, int64_t m0, int64_t m1) {
  struct alignas(64) Entry {
    uint8_t bytes[kEntryBytes];
  };
  const int64_t entries = std::max<int64_t>((q.steps + 15) / 16 * 16, 1);
  std::unique_ptr<Entry[]> storage(new Entry[static_cast<size_t>(entries * group)]);
  auto panel = [&](int64_t j) { return reinterpret_cast<uint8_t*>(storage.get() + j * entries); };
  for (int64_t p0; (p0 = next_group()) < panels;) {
    const int64_t p1 = std::min(panels, p0 + group);
    for (int64_t p = p0; p < p1; ++p)
      pack_panel(q.B + p * kPanelRows * q.ldb, q.ldb, std::min(kPanelRows, q.N - p * kPanelRows), q.steps,
                 panel(p - p0));
    const uint8_t* a[kRows];
    for (int64_t m = m0; m < m1; m += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, m1 - m));
      for (int i = 0; i < rows; ++i) a[i] = q.A + (m + i) * q.lda;
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n0 = p * kPanelRows;
        kTiles[rows](a, panel(p - p0), q.steps, q.k_bits, q.C + m * q.ldc + n0, q.ldc, std::min(kPanelRows, q.N - n0));
      }
    }
  }
}

// Runs body(i) for i = 0..n-1, the last on the calling thread and the others on threads of their
// own, and returns only when every one has finished (also when the calling thread's body throws),
// so the bodies may share the caller's locals (the group counter) by reference.
template <typename Body>
void on_threads(int64_t n, const Body& body) {
  std::vector<std::thread> pool;
  struct Join {
    std::vector<std::thread>& pool;
    ~Join() {
      for (auto& th : pool) th.join();
    }
  } join{pool};
  for (int64_t i = 0; i + 1 < n; ++i) pool.emplace_back([&body, i] { body(i); });
  if (n > 0) body(n - 1);
}

}  // namespace

void xnor_gemm_avx2(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda,
                    const uint32_t* B, int64_t ldb, int32_t* C, int64_t ldc, int threads) {
  const Problem q{M, N, kw * 4, k_bits, reinterpret_cast<const uint8_t*>(A), lda * 4,
                  reinterpret_cast<const uint8_t*>(B), ldb * 4, C, ldc};
  const int64_t panels = (N + kPanelRows - 1) / kPanelRows, tiles = (M + kRows - 1) / kRows;
  const int64_t t = std::max<int64_t>(1, threads);
  if (panels >= 4 * t) {
    // Groups of panels whose packed copies take about kGroupBytes (L2), at least two groups per
    // thread; every thread takes the next group from a shared counter (on a loaded machine a thread
    // that gets less of a core does fewer groups); the calling thread is one of them.
    const int64_t panel_bytes = (q.steps + 15) / 16 * 16 * kEntryBytes;
    const int64_t group = std::clamp<int64_t>(kGroupBytes / std::max<int64_t>(panel_bytes, 1), 1, panels / (2 * t));
    std::atomic<int64_t> next{0};
    on_threads(t, [&](int64_t) {
      work(q, [&] { return next.fetch_add(group, std::memory_order_relaxed); }, group, panels, 0, M);
    });
  } else {
    // Few panels: contiguous ranges of whole row tiles, each thread packing every panel.
    const int64_t tr = std::min(t, tiles);
    on_threads(tr, [&](int64_t i) {
      const int64_t m0 = std::min(M, tiles * i / tr * kRows), m1 = std::min(M, tiles * (i + 1) / tr * kRows);
      int64_t p = 0;
      work(q, [&p] { return p++; }, 1, panels, m0, m1);
    });
  }
}

}  // namespace lowbit::cpu::detail

#endif
