// CPU GEMM and conv2d benchmarks (f32, wall time on the host).
//
// Measured:
//   CpuGemm/{lowbit,openblas,naive}/n : C[n,n] = A[n,n] B[n,n] through lowbit::matmul (tensor
//     allocation and dispatch included), cblas_sgemm called directly, and a plain i-k-j triple loop.
//   CpuConv2d/{lowbit,naive}/<shape> : lowbit::conv2d (im2col + OpenBLAS GEMM) on NHWC/OHWI
//     ResNet-like shapes, and a plain direct convolution.
// Every benchmark first checks its result against the naive one (SkipWithError on mismatch), then
// times. Counters: GFLOP/s (2*M*N*K, or 2*N*OH*OW*O*KH*KW*C/groups for conv) and vs_<peer>: its
// speed over the peer's, the peer being timed in the same run (best of 3 after a warm-up; the
// naive peer: its one validation run). OpenBLAS uses its default thread count (listed in the
// context as openblas_threads); the naive loops are single-threaded.
//
// Run: build/bench/lowbit-bench --benchmark_format=json   (add --benchmark_filter=CpuGemm etc.)
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/ops/conv.h"
#include "core/ops/linalg.h"
#include "core/random.h"
#include "bench/bench_util.h"

namespace {

using lowbit::Conv2dParams;
using lowbit::Shape;
using lowbit::Tensor;
using namespace lowbit::bench;

// Empty string when got matches want within 1e-3 * (1 + |want|); else a description of the
// first mismatch.
std::string compare(const float* got, const std::vector<float>& want) {
  return first_mismatch(got, want.data(), want.size(), "naive");
}

// Times the benchmark loop and sets the counters; `peers` maps a peer name to its seconds per run.
template <typename F>
void run_timed(benchmark::State& state, double flops, const std::map<std::string, double>& peers, F&& f) {
  auto t0 = Clock::now();
  for (auto _ : state) f();
  double own = seconds_since(t0) / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  for (const auto& [name, peer] : peers) state.counters["vs_" + name] = peer / own;
}

// ---------------------------------------------------------------- GEMM

// Plain triple loop (i-k-j order, so the inner loop streams rows of B and C).
void naive_gemm(const float* a, const float* b, float* c, int64_t n) {
  std::fill_n(c, n * n, 0.f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) {
      float aik = a[i * n + k];
      for (int64_t j = 0; j < n; ++j) c[i * n + j] += aik * b[k * n + j];
    }
}

struct GemmCase {
  Tensor a, b;
  std::vector<float> want;  // naive result
  double naive_seconds;
};

// Inputs and the naive result per size, computed once and shared by the three GEMM benchmarks.
const GemmCase& gemm_case(int64_t n) {
  static std::map<int64_t, GemmCase> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  GemmCase c{random_tensor({n, n}, 1), random_tensor({n, n}, 2), std::vector<float>(static_cast<size_t>(n * n)), 0};
  auto t0 = Clock::now();
  naive_gemm(c.a.data<float>(), c.b.data<float>(), c.want.data(), n);
  c.naive_seconds = seconds_since(t0);
  return cache.emplace(n, std::move(c)).first->second;
}

void openblas_gemm(const float* a, const float* b, float* c, int64_t n) {
  int m = static_cast<int>(n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.f, a, m, b, m, 0.f, c, m);
}

void BM_CpuGemm_lowbit(benchmark::State& state) {
  int64_t n = state.range(0);
  const GemmCase& c = gemm_case(n);
  Tensor out = lowbit::matmul(c.a, c.b);
  if (std::string err = compare(out.data<float>(), c.want); !err.empty()) return state.SkipWithError(err.c_str());
  std::vector<float> scratch(static_cast<size_t>(n * n));
  double blas = best_time([&] { openblas_gemm(c.a.data<float>(), c.b.data<float>(), scratch.data(), n); });
  run_timed(state, 2.0 * n * n * n, {{"openblas", blas}, {"naive", c.naive_seconds}},
            [&] { benchmark::DoNotOptimize(lowbit::matmul(c.a, c.b)); });
}

void BM_CpuGemm_openblas(benchmark::State& state) {
  int64_t n = state.range(0);
  const GemmCase& c = gemm_case(n);
  std::vector<float> out(static_cast<size_t>(n * n));
  openblas_gemm(c.a.data<float>(), c.b.data<float>(), out.data(), n);
  if (std::string err = compare(out.data(), c.want); !err.empty()) return state.SkipWithError(err.c_str());
  run_timed(state, 2.0 * n * n * n, {{"naive", c.naive_seconds}}, [&] {
    openblas_gemm(c.a.data<float>(), c.b.data<float>(), out.data(), n);
    benchmark::ClobberMemory();
  });
}

void BM_CpuGemm_naive(benchmark::State& state) {
  int64_t n = state.range(0);
  const GemmCase& c = gemm_case(n);  // the naive result is the reference itself
  std::vector<float> out(static_cast<size_t>(n * n));
  run_timed(state, 2.0 * n * n * n, {}, [&] {
    naive_gemm(c.a.data<float>(), c.b.data<float>(), out.data(), n);
    benchmark::ClobberMemory();
  });
}

// Square sizes; wall time (UseRealTime): OpenBLAS runs several threads, so the benchmark thread's
// CPU time would mislead.
void gemm_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(256)->Arg(512)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_CpuGemm_lowbit)->Name("CpuGemm/lowbit")->Apply(gemm_sizes);
BENCHMARK(BM_CpuGemm_openblas)->Name("CpuGemm/openblas")->Apply(gemm_sizes);
BENCHMARK(BM_CpuGemm_naive)->Name("CpuGemm/naive")->Apply(gemm_sizes);

// ---------------------------------------------------------------- conv2d

// ResNet-like stages at CIFAR scale (groups = 1).
const ConvShape kConvShapes[] = {
    {8, 32, 32, 16, 16, 3, 1, 1},  // stage 1, 3x3
    {8, 16, 16, 32, 32, 3, 1, 1},  // stage 2, 3x3
    {8, 8, 8, 64, 64, 3, 1, 1},    // stage 3, 3x3
    {8, 32, 32, 16, 32, 3, 2, 1},  // downsampling 3x3, stride 2
    {8, 16, 16, 32, 64, 1, 1, 0},  // 1x1 projection (im2col-free path)
};

// Plain direct convolution, NHWC x OHWI -> NHWC, zero padding.
void naive_conv(const ConvShape& s, const float* x, const float* w, float* y) {
  int64_t oh = s.OH(), ow = s.OW();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t o = 0; o < s.O; ++o) {
          float acc = 0.f;
          for (int64_t ky = 0; ky < s.K; ++ky) {
            int64_t iy = oy * s.stride - s.pad + ky;
            if (iy < 0 || iy >= s.H) continue;
            for (int64_t kx = 0; kx < s.K; ++kx) {
              int64_t ix = ox * s.stride - s.pad + kx;
              if (ix < 0 || ix >= s.W) continue;
              const float* xp = x + ((n * s.H + iy) * s.W + ix) * s.C;
              const float* wp = w + ((o * s.K + ky) * s.K + kx) * s.C;
              for (int64_t c = 0; c < s.C; ++c) acc += xp[c] * wp[c];
            }
          }
          y[((n * oh + oy) * ow + ox) * s.O + o] = acc;
        }
}

struct ConvCase {
  Tensor x, w;
  std::vector<float> want;
  double naive_seconds;
};

const ConvCase& conv_case(int64_t index) {
  static std::map<int64_t, ConvCase> cache;
  auto it = cache.find(index);
  if (it != cache.end()) return it->second;
  const ConvShape& s = kConvShapes[index];
  ConvCase c{random_tensor({s.N, s.H, s.W, s.C}, 3), random_tensor({s.O, s.K, s.K, s.C}, 4),
             std::vector<float>(static_cast<size_t>(s.N * s.OH() * s.OW() * s.O)), 0};
  auto t0 = Clock::now();
  naive_conv(s, c.x.data<float>(), c.w.data<float>(), c.want.data());
  c.naive_seconds = seconds_since(t0);
  return cache.emplace(index, std::move(c)).first->second;
}

void BM_CpuConv2d_lowbit(benchmark::State& state, int64_t index) {
  const ConvShape& s = kConvShapes[index];
  const ConvCase& c = conv_case(index);
  Conv2dParams p{s.stride, s.stride, s.pad, s.pad, 1};
  Tensor out = lowbit::conv2d(c.x, c.w, Tensor(), p);
  if (std::string err = compare(out.data<float>(), c.want); !err.empty()) return state.SkipWithError(err.c_str());
  run_timed(state, s.flops(), {{"naive", c.naive_seconds}},
            [&] { benchmark::DoNotOptimize(lowbit::conv2d(c.x, c.w, Tensor(), p)); });
}

void BM_CpuConv2d_naive(benchmark::State& state, int64_t index) {
  const ConvShape& s = kConvShapes[index];
  const ConvCase& c = conv_case(index);
  std::vector<float> out(c.want.size());
  run_timed(state, s.flops(), {}, [&] {
    naive_conv(s, c.x.data<float>(), c.w.data<float>(), out.data());
    benchmark::ClobberMemory();
  });
}

// Named by shape, e.g. CpuConv2d/lowbit/N8_32x32x16_to_16_k3s1p1.
const bool conv_registered = [] {
  for (int64_t i = 0; i < static_cast<int64_t>(std::size(kConvShapes)); ++i) {
    std::string label = conv_label(kConvShapes[i]);
    benchmark::RegisterBenchmark(("CpuConv2d/lowbit/" + label).c_str(), BM_CpuConv2d_lowbit, i)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("CpuConv2d/naive/" + label).c_str(), BM_CpuConv2d_naive, i)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
