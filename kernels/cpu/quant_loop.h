// The loop drivers of the CPU quantizers (kernels/cpu/quant_*.cpp).
// Threads: [0, n) is cut into fixed chunks of kChunk elements, which the threads that
// parallel_rows (kernels/cpu/multibit_parallel.h) starts take from a shared counter; the thread
// count is the kernels' one (cpu::xnor_threads(), fewer for small n).
// Vectorization: each chunk's element loop is compiled twice, for AVX2 (chosen at run time by
// xnor_avx2_supported(); there vroundps gives nearbyintf and floorf, so the loops vectorize) and
// for the baseline. The per-element math stays in kernels/quant/*_math.h; the quant_*.cpp files
// are compiled with -fno-trapping-math (core/CMakeLists.txt: the values are unchanged, but GCC may
// then turn the math's selects into branch-free vector code).
// Reductions (parameter gradients, statistics) are deterministic: the chunks do not depend on the
// thread count; within a chunk, blocks of kBlock elements first write their float terms to an L1
// buffer (vectorizable), then fold them into kLanes double accumulators (element j of a block into
// lane j % kLanes); the lanes, then the chunks are added in a fixed order. So the sums are the same
// for every thread count and path (they differ from one sequential sum only in the order of the
// double additions).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "kernels/cpu/multibit_parallel.h"

namespace lowbit::cpu::qloop {

constexpr int64_t kChunk = int64_t{1} << 14;  // elements per chunk (the unit threads share)
constexpr int64_t kBlock = 1024;              // elements per term buffer
constexpr int kLanes = 4;                     // double accumulators per sum

// Element costs for the thread split (parallel_rows gives each thread ≥ 2^20 of cost): about one
// unit per cheap element, more where libm calls (tanhf, expf) dominate.
constexpr int64_t kCheap = 1, kTranscendental = 16;

namespace detail {

// f(i) for i in [i0, i1). f is taken by value (a local copy of the captured values, which the
// stores to the outputs then cannot alias, so GCC can vectorize).
template <typename F>
void each_base(int64_t i0, int64_t i1, F f) {
  for (int64_t i = i0; i < i1; ++i) f(i);
}
#if defined(__x86_64__) || defined(__i386__)
template <typename F>
__attribute__((target("avx2"))) void each_avx2(int64_t i0, int64_t i1, F f) {
  for (int64_t i = i0; i < i1; ++i) f(i);
}
#endif
template <typename F>
void each(int64_t i0, int64_t i1, const F& f) {
#if defined(__x86_64__) || defined(__i386__)
  if (xnor_avx2_supported()) return each_avx2(i0, i1, f);
#endif
  each_base(i0, i1, f);
}

}  // namespace detail

// fn(c, i0, i1) for every chunk c = [i0, i1) of [0, n): the threads that parallel_rows starts
// (their number from the work n·cost; the row ranges it hands out are not used) take the chunks
// from a shared counter, so on a loaded machine a thread that gets less of a core does fewer
// chunks instead of holding up the others.
template <typename Fn>
void each_chunk(int64_t n, int64_t cost, Fn&& fn) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::atomic<int64_t> next{0};
  parallel_rows(chunks, 1, n * cost, 0, [&](int64_t, int64_t) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
      fn(c, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
}

// body(i) for every i in [0, n) (element outputs only: any order, any thread).
template <typename Body>
void for_each(int64_t n, int64_t cost, Body&& body) {
  each_chunk(n, cost, [&](int64_t, int64_t i0, int64_t i1) { detail::each(i0, i1, body); });
}

// Sums over [i0, i1) on the calling thread: terms(i) writes element i's outputs and returns its K
// float terms; fold(terms, acc) adds them into the S doubles of acc (one lane). Returns the S sums.
template <int K, int S, typename Terms, typename Fold>
std::array<double, S> reduce_range(int64_t i0, int64_t i1, const Terms& terms, const Fold& fold) {
  using Acc = std::array<double, S>;
  float buf[K][kBlock];
  Acc lanes[kLanes] = {};
  for (int64_t b0 = i0; b0 < i1; b0 += kBlock) {
    const int64_t b1 = std::min(i1, b0 + kBlock);
    float (*out)[kBlock] = buf;
    auto write = [out, b0, terms](int64_t i) {
      const std::array<float, K> t = terms(i);
      for (int k = 0; k < K; ++k) out[k][i - b0] = t[k];
    };
    detail::each(b0, b1, write);
    auto fold_at = [&](int64_t j, Acc& lane) {
      std::array<float, K> t;
      for (int k = 0; k < K; ++k) t[k] = buf[k][j];
      fold(t, lane);
    };
    const int64_t len = b1 - b0;
    int64_t j = 0;
    for (; j + kLanes <= len; j += kLanes)
      for (int l = 0; l < kLanes; ++l) fold_at(j + l, lanes[l]);
    for (int l = 0; j < len; ++j, ++l) fold_at(j, lanes[l]);
  }
  Acc total;
  for (int s = 0; s < S; ++s) total[s] = (lanes[0][s] + lanes[1][s]) + (lanes[2][s] + lanes[3][s]);
  return total;
}

// The same over [0, n), the chunks shared by threads and their sums added in chunk order.
template <int K, int S, typename Terms, typename Fold>
std::array<double, S> reduce(int64_t n, int64_t cost, Terms&& terms, Fold&& fold) {
  using Acc = std::array<double, S>;
  std::vector<Acc> partial(static_cast<size_t>((n + kChunk - 1) / kChunk), Acc{});
  each_chunk(n, cost, [&](int64_t c, int64_t i0, int64_t i1) {
    partial[static_cast<size_t>(c)] = reduce_range<K, S>(i0, i1, terms, fold);
  });
  Acc total{};
  for (const Acc& p : partial)
    for (int s = 0; s < S; ++s) total[s] += p[s];
  return total;
}

// Each of the K terms summed as a double.
template <int K>
struct SumFold {
  void operator()(const std::array<float, K>& t, std::array<double, K>& acc) const {
    for (int k = 0; k < K; ++k) acc[k] += static_cast<double>(t[k]);
  }
};

template <int K, typename Terms>
std::array<double, K> sum(int64_t n, int64_t cost, Terms&& terms) {
  return reduce<K, K>(n, cost, terms, SumFold<K>{});
}

// max(0, value(i)) over [0, n) (std::max order: a NaN value never enters; exact in any order).
template <typename Value>
float max_of(int64_t n, int64_t cost, Value&& value) {
  std::vector<float> partial(static_cast<size_t>((n + kChunk - 1) / kChunk), 0.f);
  each_chunk(n, cost, [&](int64_t c, int64_t i0, int64_t i1) {
    float m = 0.f;
    for (int64_t i = i0; i < i1; ++i) m = std::max(m, value(i));
    partial[static_cast<size_t>(c)] = m;
  });
  float m = 0.f;
  for (float p : partial) m = std::max(m, p);
  return m;
}

}  // namespace lowbit::cpu::qloop
