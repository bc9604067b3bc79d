// CPU multi-bit GEMM benchmarks (MINW-Net Table I operations, wall time on the host).
//
// Measured, at the logical shape C[n,n] = A[n,n]·B[n,n]ᵀ for a code-format pair:
//   CpuMultibit/bitserial/<fa>x<fb>/n : cpu::bitserial_gemm on pre-packed bit planes
//   CpuMultibit/int8/<fa>x<fb>/n      : cpu::int8_gemm on the int8 values
//   CpuMultibit/shift/<fa>x<fb>/n     : cpu::shift_gemm (int8 activations, b's sign + exponent codes)
//   CpuMultibit/adder/f32x<fb>/n      : cpu::adder_gemm (f32 activations, b's codes)
// Operands are prepared outside the timing (planes packed, codes turned into values), as weights
// would be at load time. Peers timed in the same run (best of 3 after a warm-up): OpenBLAS
// cblas_sgemm on the same values as f32, and the int8 kernel. Validation first (SkipWithError on a
// mismatch): the integer paths must equal sgemm exactly (every partial sum here is an integer
// below 2^24), the adder within 1e-3 relative.
// Counters: Top/s (2·n³ logical ops), vs_openblas_sgemm and vs_int8 (peer time / own time).
// Threads: xnor_threads() (every hardware thread) for lowbit; OpenBLAS its default.
//
// Run: build/bench/lowbit-bench --benchmark_filter=CpuMultibit
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/ops/multibit.h"
#include "core/random.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/multibit_adder.h"
#include "kernels/cpu/multibit_bitserial.h"
#include "kernels/cpu/multibit_codes.h"
#include "kernels/cpu/multibit_int8.h"
#include "kernels/cpu/multibit_shift.h"

namespace {

using lowbit::CodeFormat;
using lowbit::MultibitPath;
using namespace lowbit::bench;

// n·k codes drawn uniformly from the valid codes of f (seeded).
std::vector<int8_t> random_codes(CodeFormat f, int64_t count, uint64_t seed) {
  std::vector<int> valid;
  for (int c = lowbit::code_min(f.kind, f.bits); c <= lowbit::code_max(f.kind, f.bits); ++c)
    if (lowbit::code_valid(f.kind, f.bits, c)) valid.push_back(c);
  lowbit::Generator gen(seed);
  std::vector<int32_t> idx = lowbit::Tensor::randint(0, static_cast<int64_t>(valid.size()), {count},
                                                     lowbit::Device::cpu(), &gen).to_host<int32_t>();
  std::vector<int8_t> out(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) out[i] = static_cast<int8_t>(valid[idx[i]]);
  return out;
}

struct Operands {
  int64_t n;
  CodeFormat fa, fb;
  std::vector<int8_t> a_codes, b_codes, a_values, b_values;
  std::vector<float> a_f32, b_f32;
  std::vector<uint32_t> a_planes, b_planes;
  std::vector<int32_t> a_popc, b_popc;
};

Operands make_operands(int64_t n, CodeFormat fa, CodeFormat fb) {
  Operands o{n, fa, fb, random_codes(fa, n * n, 1), random_codes(fb, n * n, 2), {}, {}, {}, {}, {}, {}, {}, {}};
  o.a_values.resize(o.a_codes.size());
  o.b_values.resize(o.b_codes.size());
  lowbit::cpu::codes_to_int8(o.a_codes.data(), n, n, fa.kind, o.a_values.data(), n);
  lowbit::cpu::codes_to_int8(o.b_codes.data(), n, n, fb.kind, o.b_values.data(), n);
  o.a_f32.assign(o.a_values.begin(), o.a_values.end());
  o.b_f32.assign(o.b_values.begin(), o.b_values.end());
  const int64_t kw = lowbit::packed_words(n), P = lowbit::plane_count(fa.kind, fa.bits),
                Q = lowbit::plane_count(fb.kind, fb.bits);
  o.a_planes.resize(static_cast<size_t>(n * P * kw));
  o.b_planes.resize(static_cast<size_t>(n * Q * kw));
  o.a_popc.resize(static_cast<size_t>(n * P));
  o.b_popc.resize(static_cast<size_t>(n * Q));
  lowbit::cpu::pack_code_planes(o.a_codes.data(), n, n, fa.kind, fa.bits, o.a_planes.data(), o.a_popc.data());
  lowbit::cpu::pack_code_planes(o.b_codes.data(), n, n, fb.kind, fb.bits, o.b_planes.data(), o.b_popc.data());
  return o;
}

void sgemm(const Operands& o, const std::vector<float>& a, std::vector<float>& c) {
  const int n = static_cast<int>(o.n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.f, a.data(), n, o.b_f32.data(), n, 0.f, c.data(), n);
}

void int8(const Operands& o, std::vector<int32_t>& c) {
  lowbit::cpu::int8_gemm(o.n, o.n, o.n, o.a_values.data(), o.n, o.b_values.data(), o.n, c.data(), o.n);
}

template <typename F>
void run_timed(benchmark::State& state, double ops, double sgemm_s, double int8_s, F&& f) {
  auto t0 = Clock::now();
  for (auto _ : state) {
    f();
    benchmark::ClobberMemory();
  }
  const double own = seconds_since(t0) / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["Top/s"] = benchmark::Counter(ops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["vs_openblas_sgemm"] = sgemm_s / own;
  if (int8_s > 0) state.counters["vs_int8"] = int8_s / own;
}

// Integer paths: exact equality with sgemm.
void BM_CpuMultibit(benchmark::State& state, MultibitPath path, CodeFormat fa, CodeFormat fb) {
  const int64_t n = state.range(0);
  const Operands o = make_operands(n, fa, fb);
  std::vector<float> want(static_cast<size_t>(n * n));
  std::vector<int32_t> c(want.size()), c8(want.size());
  auto kernel = [&] {
    switch (path) {
      case MultibitPath::bitserial:
        lowbit::cpu::bitserial_gemm(n, n, n, {o.a_planes.data(), o.a_popc.data(), fa.kind, fa.bits},
                                    {o.b_planes.data(), o.b_popc.data(), fb.kind, fb.bits}, c.data(), n);
        break;
      case MultibitPath::shift:
        lowbit::cpu::shift_gemm(n, n, n, o.a_values.data(), n, o.b_codes.data(), n, c.data(), n);
        break;
      default: int8(o, c); break;
    }
  };
  sgemm(o, o.a_f32, want);
  kernel();
  for (size_t i = 0; i < c.size(); ++i)
    if (static_cast<float>(c[i]) != want[i])
      return state.SkipWithError(("mismatch vs sgemm at " + std::to_string(i) + ": " + std::to_string(c[i]) + " vs " +
                                  std::to_string(want[i])).c_str());
  const double sgemm_s = best_time([&] { sgemm(o, o.a_f32, want); });
  const double int8_s = path == MultibitPath::int8 ? 0.0 : best_time([&] { int8(o, c8); });
  run_timed(state, 2.0 * n * n * n, sgemm_s, int8_s, kernel);
}

// f32 activations (uniform [-1, 1)) times sign + exponent codes.
void BM_CpuMultibitAdder(benchmark::State& state, CodeFormat fb) {
  const int64_t n = state.range(0);
  Operands o = make_operands(n, CodeFormat::unsigned_bits(1), fb);
  lowbit::Tensor r = random_tensor({n, n}, 3);
  std::vector<float> a = r.to_vector();
  for (float& v : a) v = 2.f * v - 1.f;
  std::vector<float> want(static_cast<size_t>(n * n)), c(want.size());
  std::vector<int32_t> c8(want.size());
  auto kernel = [&] { lowbit::cpu::adder_gemm(n, n, n, a.data(), n, o.b_codes.data(), n, c.data(), n); };
  sgemm(o, a, want);
  kernel();
  if (std::string err = first_mismatch(c.data(), want.data(), c.size(), "sgemm"); !err.empty())
    return state.SkipWithError(err.c_str());
  const double sgemm_s = best_time([&] { sgemm(o, a, want); });
  const double int8_s = best_time([&] { int8(o, c8); });
  run_timed(state, 2.0 * n * n * n, sgemm_s, int8_s, kernel);
}

struct Pair {
  const char* name;
  CodeFormat fa, fb;
};
// Table I rows: 3/3 (SHIFT: DoReFa-style 3-bit activations × AQE pow2 weights), 2/2 (XNOR with
// ternary weights), 1/1 (XNOR), 2/1.
const Pair kPairs[] = {{"u3xpow2_3", CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)},
                       {"u2xternary", CodeFormat::unsigned_bits(2), CodeFormat::ternary()},
                       {"u2xbinary", CodeFormat::unsigned_bits(2), CodeFormat::binary()},
                       {"binaryxbinary", CodeFormat::binary(), CodeFormat::binary()}};

const bool registered = [] {
  for (const Pair& p : kPairs)
    for (MultibitPath path : {MultibitPath::bitserial, MultibitPath::int8, MultibitPath::shift})
      benchmark::RegisterBenchmark(
          (std::string("CpuMultibit/") + lowbit::multibit_path_name(path) + "/" + p.name).c_str(), BM_CpuMultibit, path,
          p.fa, p.fb)
          ->Arg(512)
          ->Arg(2048)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  for (const Pair& p : {Pair{"f32xternary", {}, CodeFormat::ternary()}, Pair{"f32xpow2_3", {}, CodeFormat::pow2(3)}})
    benchmark::RegisterBenchmark((std::string("CpuMultibit/adder/") + p.name).c_str(), BM_CpuMultibitAdder, p.fb)
        ->Arg(512)
        ->Arg(2048)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
