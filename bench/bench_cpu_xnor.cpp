// CPU binary (XNOR/popcount) GEMM and convolution benchmarks (wall time on the host).
//
// Measured:
//   CpuXnorGemm/{auto,avx512,avx2,scalar}/n : C[n,n] (i32) = A[n,n bits] B[n,n bits]^T through
//     cpu::xnor_gemm on pre-packed operands, vs OpenBLAS cblas_sgemm on the same ±1 values as f32
//     (the same logical shape), timed in the same run (interleaved rounds, see Counters).
//   CpuXnorConv/lowbit/<shape> : cpu::xnor_conv2d (packed im2col + xnor_gemm + border fix) on a
//     packed NHWC input and OHWI weights, vs lowbit::conv2d (f32 im2col + OpenBLAS) on the ±1
//     values, same run.
// Validation first (SkipWithError on mismatch): on ±1 inputs every f32 sum is an integer below
// 2^24, so the peer's result must equal the binary kernel's exactly.
// Counters: Gop/s (2·M·N·K binary ops, or 2·N·OH·OW·O·KH·KW·C; from the mean time of the
// benchmark's iterations, the Time column) and vs_<peer> = the peer's best time / the kernel's best
// time over 5 interleaved rounds (one call of each per round), the same statistic for both, so
// that load changing during the run (a shared machine) slows both alike.
// Threads: xnor_threads() (every hardware thread); OpenBLAS its default count.
//
// Run: build/bench/lowbit-bench --benchmark_filter=CpuXnor
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/ops/conv.h"
#include "core/random.h"
#include "bench/bench_util.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/xnor_conv.h"
#include "kernels/cpu/xnor_gemm.h"
#include "kernels/window.h"

namespace {

using lowbit::Shape;
using lowbit::Tensor;
using namespace lowbit::bench;

// Random ±1 values as f32 (seeded).
Tensor random_pm1(const Shape& shape, uint64_t seed) {
  lowbit::Generator gen(seed);
  Tensor u = Tensor::rand(shape, lowbit::Device::cpu(), &gen);
  float* p = u.data<float>();
  for (int64_t i = 0; i < u.numel(); ++i) p[i] = p[i] < 0.5f ? -1.f : 1.f;
  return u;
}

// Times own() against peer() (both already run once: the validation) and fills the counters.
// Returns the peer's best time.
template <typename P, typename F>
double run_timed(benchmark::State& state, double ops, const char* peer_name, P&& peer, F&& own) {
  constexpr int kRounds = 5;
  double peer_best = 1e30, own_best = 1e30;
  for (int r = 0; r < kRounds; ++r) {
    auto t0 = Clock::now();
    peer();
    peer_best = std::min(peer_best, seconds_since(t0));
    t0 = Clock::now();
    own();
    own_best = std::min(own_best, seconds_since(t0));
  }
  for (auto _ : state) {
    own();
    benchmark::ClobberMemory();
  }
  state.counters["Gop/s"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters[std::string("vs_") + peer_name] = peer_best / own_best;
  return peer_best;
}

// ---------------------------------------------------------------- GEMM

void BM_CpuXnorGemm(benchmark::State& state, lowbit::cpu::XnorPath path) {
  if (path == lowbit::cpu::XnorPath::avx2 && !lowbit::cpu::xnor_avx2_supported())
    return state.SkipWithError("no AVX2 on this CPU");
  if (path == lowbit::cpu::XnorPath::avx512 && !lowbit::cpu::xnor_avx512_supported())
    return state.SkipWithError("no AVX-512 VPOPCNTDQ on this CPU");
  int64_t n = state.range(0), kw = lowbit::packed_words(n);
  Tensor a = random_pm1({n, n}, 1), b = random_pm1({n, n}, 2);
  Tensor pa = a.to(lowbit::DType::b1), pb = b.to(lowbit::DType::b1);
  std::vector<int32_t> c(static_cast<size_t>(n * n));
  std::vector<float> ref(static_cast<size_t>(n * n));
  int m = static_cast<int>(n);
  auto blas = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, m, 1.f, a.data<float>(), m, b.data<float>(), m, 0.f,
                ref.data(), m);
  };
  auto xnor = [&] {
    lowbit::cpu::xnor_gemm(n, n, kw, n, pa.data<uint32_t>(), kw, pb.data<uint32_t>(), kw, c.data(), n, {path});
  };
  blas();
  xnor();
  for (size_t i = 0; i < c.size(); ++i)
    if (static_cast<float>(c[i]) != ref[i])
      return state.SkipWithError(("mismatch vs sgemm at " + std::to_string(i) + ": " + std::to_string(c[i]) +
                                  " vs " + std::to_string(ref[i])).c_str());
  const double blas_seconds = run_timed(state, 2.0 * n * n * n, "openblas_sgemm", blas, xnor);
  state.counters["openblas_Gflop/s"] = 2.0 * n * n * n * 1e-9 / blas_seconds;
}

void gemm_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(512)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK_CAPTURE(BM_CpuXnorGemm, auto, lowbit::cpu::XnorPath::automatic)->Name("CpuXnorGemm/auto")->Apply(gemm_sizes);
BENCHMARK_CAPTURE(BM_CpuXnorGemm, avx512, lowbit::cpu::XnorPath::avx512)->Name("CpuXnorGemm/avx512")->Apply(gemm_sizes);
BENCHMARK_CAPTURE(BM_CpuXnorGemm, avx2, lowbit::cpu::XnorPath::avx2)->Name("CpuXnorGemm/avx2")->Apply(gemm_sizes);
BENCHMARK_CAPTURE(BM_CpuXnorGemm, scalar, lowbit::cpu::XnorPath::scalar)
    ->Name("CpuXnorGemm/scalar")
    ->Arg(512)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- convolution

// ResNet-like 3×3 layers (ResNet-18 stages at batch 8, and a CIFAR ResNet stage) and a 1×1.
const ConvShape kShapes[] = {
    {8, 56, 56, 64, 64, 3, 1, 1},
    {8, 14, 14, 256, 256, 3, 1, 1},
    {8, 28, 28, 128, 256, 3, 2, 1},
    {32, 32, 32, 16, 16, 3, 1, 1},
    {8, 28, 28, 128, 256, 1, 1, 0},
};

void BM_CpuXnorConv(benchmark::State& state, ConvShape s) {
  Tensor x = random_pm1({s.N, s.H, s.W, s.C}, 3), w = random_pm1({s.O, s.K, s.K, s.C}, 4);
  Tensor px = x.to(lowbit::DType::b1), pw = w.to(lowbit::DType::b1);
  int64_t OH = lowbit::window_out_size(s.H, s.K, s.stride, s.pad), OW = lowbit::window_out_size(s.W, s.K, s.stride, s.pad);
  lowbit::cpu::BinaryConvGeom g{s.N, s.H, s.W, s.C, s.O, s.K, s.K, OH, OW, s.stride, s.stride, s.pad, s.pad};
  std::vector<int32_t> y(static_cast<size_t>(s.N * OH * OW * s.O));
  lowbit::Conv2dParams p{s.stride, s.stride, s.pad, s.pad, 1};
  auto xnor = [&] { lowbit::cpu::xnor_conv2d(px.data<uint32_t>(), pw.data<uint32_t>(), g, y.data()); };
  Tensor want = lowbit::conv2d(x, w, Tensor(), p);
  xnor();
  const float* wp = want.data<float>();
  for (size_t i = 0; i < y.size(); ++i)
    if (static_cast<float>(y[i]) != wp[i])
      return state.SkipWithError(("mismatch vs conv2d at " + std::to_string(i)).c_str());
  double ops = 2.0 * s.N * OH * OW * s.O * s.K * s.K * s.C;
  run_timed(state, ops, "lowbit_f32_conv2d",
            [&] { benchmark::DoNotOptimize(lowbit::conv2d(x, w, Tensor(), p)); }, xnor);
}

const bool registered = [] {
  for (const ConvShape& s : kShapes)
    benchmark::RegisterBenchmark(("CpuXnorConv/lowbit/" + conv_label(s)).c_str(), BM_CpuXnorConv, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
