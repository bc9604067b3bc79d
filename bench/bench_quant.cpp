// CPU benchmarks of the fused quantizers (the cases of bench/quant_cases.h: EWGS, LSQ, DAQ weight,
// SAT weight, CG-PACT, AQE, DoReFa weight, PACT, BNN, XNOR weight).
//
// Measured, on N = 4 M f32 elements ([4096, 1024], 16 MB per tensor) through the library ops
// (output allocation and dispatch included), single-threaded as the CPU quantizer loops are:
//   CpuQuant/copy            : memcpy of the 16 MB of x, the bandwidth ceiling of this run
//                              (bytes = read + write = 32 MB).
//   CpuQuant/<method>/fwd    : the training forward (recorded), floor 8 B per element;
//   CpuQuant/<method>/fwd_bwd: the forward plus its backward node applied to a fixed g (the
//                              gradient of sum(y·g), no loss), floor 20 B per element.
//   Both floors add 4 B per element for each reduction pass over x the method needs before its
//   elementwise pass: DAQ weight stats (1), SAT max|tanh w| and Var[Q] (2), DoReFa max|tanh w| (1).
//   XNOR's per-channel α (0) is reduced over one 4 KB row while the row is in registers or cache.
// Each method is first validated (once per process) against its float64 reference in
// tests/reference/quant_*.h on a [4, 1024] slice of the same inputs: y and dx within 1e-5·(1 + |want|)
// (the vectors' float32 tolerance) with no exception, parameter gradients within that plus
// 1e-6 per element; a mismatch is reported with SkipWithError.
// Counters: GB_per_s (floor bytes / time) and floor_ratio (time / (floor bytes / copy bandwidth),
// the copy's best rate measured once per process before the first timing; 1 = at the copy's
// speed). Times are wall clock (manual time), so a loaded machine shows in them. At 4 M elements
// the copy's 32 MB may sit largely in a last-level cache (a cache-bandwidth ceiling), while the
// ops' x, g, y, dx (64 MB) do not.
//
// Run: build/bench/lowbit-bench --benchmark_filter=CpuQuant
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/quant_cases.h"

namespace {

using lowbit::Device;
using lowbit::Tensor;
using namespace lowbit::qbench;
using lowbit::bench::Clock;
using lowbit::bench::seconds_since;

constexpr int64_t kRows = 4096, kN = kRows * kCols;  // 4 M elements
constexpr int64_t kValRows = 4;                        // validation slice: [4, 1024]

struct Inputs {
  std::vector<float> x_host, g_host;
  Tensor x, g;  // x requires grad (a leaf, as a weight)
};

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs r;
    r.x_host = x_values(kN);
    r.g_host = g_values(kN);
    r.x = Tensor::from_vector(r.x_host, {kRows, kCols}).requires_grad_();
    r.g = Tensor::from_vector(r.g_host, {kRows, kCols});
    return r;
  }();
  return in;
}

// Bytes/s of memcpy of the N floats of x (read + write), measured once: the fastest of 10 rounds
// of 5 copies after a warm-up (a loaded machine slows some rounds; the ceiling is the best).
double copy_bytes_per_s() {
  static const double bw = [] {
    const Inputs& in = inputs();
    std::vector<float> dst(static_cast<size_t>(kN));
    const size_t bytes = static_cast<size_t>(kN) * sizeof(float);
    std::memcpy(dst.data(), in.x_host.data(), bytes);
    constexpr int kRounds = 10, kReps = 5;
    double best = 1e30;
    for (int r = 0; r < kRounds; ++r) {
      Clock::time_point t0 = Clock::now();
      for (int i = 0; i < kReps; ++i) {
        std::memcpy(dst.data(), in.x_host.data(), bytes);
        benchmark::ClobberMemory();
      }
      best = std::min(best, seconds_since(t0) / kReps);
    }
    return 2.0 * static_cast<double>(bytes) / best;
  }();
  return bw;
}

// Empty when the case matches its float64 reference on the slice (checked once per case).
const std::string& validation_error(const QuantCase& c) {
  static std::map<std::string, std::string> done;
  auto it = done.find(c.name);
  if (it != done.end()) return it->second;
  const Inputs& in = inputs();
  const int64_t n = kValRows * kCols;
  std::vector<float> x(in.x_host.begin(), in.x_host.begin() + n), g(in.g_host.begin(), in.g_host.begin() + n);
  lowbit::ref::Arr xa{{kValRows, kCols}, std::vector<double>(x.begin(), x.end())};
  lowbit::ref::Arr ga{{kValRows, kCols}, std::vector<double>(g.begin(), g.end())};
  std::string err;
  try {
    err = compare_runs(c.reference(xa, ga), run_op(c, x, g, {kValRows, kCols}, Device::cpu()), 1e-5, 0,
                       1e-6 * static_cast<double>(n));
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (!err.empty()) err = std::string(c.name) + " vs the float64 reference: " + err;
  return done.emplace(c.name, err).first->second;
}

void report(benchmark::State& state, double seconds_per_call, double bytes) {
  state.counters["GB_per_s"] = bytes / seconds_per_call / 1e9;
  state.counters["floor_ratio"] = seconds_per_call / (bytes / copy_bytes_per_s());
}

void BM_copy(benchmark::State& state) {
  const Inputs& in = inputs();
  const size_t bytes = static_cast<size_t>(kN) * sizeof(float);
  std::vector<float> dst(static_cast<size_t>(kN));
  std::memcpy(dst.data(), in.x_host.data(), bytes);
  if (std::memcmp(dst.data(), in.x_host.data(), bytes) != 0) return state.SkipWithError("memcpy mismatch");
  double total = 0.0;
  for (auto _ : state) {
    Clock::time_point t0 = Clock::now();
    std::memcpy(dst.data(), in.x_host.data(), bytes);
    benchmark::ClobberMemory();
    double s = seconds_since(t0);
    state.SetIterationTime(s);
    total += s;
  }
  report(state, total / static_cast<double>(state.iterations()), 2.0 * static_cast<double>(bytes));
}

void BM_quant(benchmark::State& state, const QuantCase* c, bool backward) {
  if (const std::string& err = validation_error(*c); !err.empty()) return state.SkipWithError(err.c_str());
  const Inputs& in = inputs();
  std::vector<Tensor> p = c->params(Device::cpu());
  copy_bytes_per_s();  // measured before the op's timing, outside it
  double total = 0.0;
  for (auto _ : state) {
    Clock::time_point t0 = Clock::now();
    if (backward) {
      std::vector<Tensor> grads = forward_backward(*c, in.x, p, in.g);
      benchmark::DoNotOptimize(grads);
    } else {
      Tensor y = c->op(in.x, p);
      benchmark::DoNotOptimize(y);
    }
    double s = seconds_since(t0);  // includes freeing y (and the gradients)
    state.SetIterationTime(s);
    total += s;
  }
  report(state, total / static_cast<double>(state.iterations()),
         floor_bytes_per_element(*c, backward) * static_cast<double>(kN));
}

const bool registered = register_quant_benchmarks("CpuQuant", BM_copy, BM_quant, benchmark::kMillisecond);

}  // namespace
