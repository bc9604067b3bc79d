// Loop drivers of the CPU multi-bit GEMMs: the rows split over std::threads (contiguous ranges of
// whole row tiles, the calling thread taking the last one; one thread when the work is small; the
// default thread count is the binary kernels', cpu::xnor_threads()), and the register-tile walk
// over C with the rows of B in L2-sized blocks that the rows of A stream past.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "kernels/cpu/xnor_gemm.h"

namespace lowbit::cpu {

// fn(m0, m1) for row ranges covering [0, M), each a multiple of `tile` rows but the last;
// `work` is the total number of inner steps (below ~2^20 per thread, fewer threads).
template <typename F>
void parallel_rows(int64_t M, int64_t tile, int64_t work, int threads, F&& fn) {
  constexpr int64_t kMinWorkPerThread = int64_t{1} << 20;
  const int64_t tiles = (M + tile - 1) / tile;
  int64_t t = threads > 0 ? threads : xnor_threads();
  t = std::clamp<int64_t>(std::min(t, work / kMinWorkPerThread), 1, std::max<int64_t>(tiles, 1));
  if (t == 1) return fn(int64_t{0}, M);
  std::vector<std::thread> pool;
  for (int64_t i = 0; i < t; ++i) {
    const int64_t m0 = std::min(M, tiles * i / t * tile), m1 = std::min(M, tiles * (i + 1) / t * tile);
    if (i + 1 == t) fn(m0, m1);
    else pool.emplace_back([=, &fn] { fn(m0, m1); });
  }
  for (auto& th : pool) th.join();
}

// Rows [m0, m1) of C in MR×NR tiles: full(m, n) for whole tiles, one(m, n) for the edge elements.
// B rows are taken in blocks of about kL2BlockBytes (b_row_bytes each).
template <int MR, int NR, typename Full, typename One>
void blocked_tiles(int64_t m0, int64_t m1, int64_t N, int64_t b_row_bytes, Full&& full, One&& one) {
  constexpr int64_t kL2BlockBytes = int64_t{384} << 10;
  const int64_t nb = std::max<int64_t>(NR, kL2BlockBytes / std::max<int64_t>(b_row_bytes, 1) / NR * NR);
  for (int64_t n0 = 0; n0 < N; n0 += nb) {
    const int64_t n1 = std::min(N, n0 + nb);
    int64_t m = m0;
    for (; m + MR <= m1; m += MR) {
      int64_t n = n0;
      for (; n + NR <= n1; n += NR) full(m, n);
      for (; n < n1; ++n)
        for (int i = 0; i < MR; ++i) one(m + i, n);
    }
    for (; m < m1; ++m)
      for (int64_t n = n0; n < n1; ++n) one(m, n);
  }
}

}  // namespace lowbit::cpu
