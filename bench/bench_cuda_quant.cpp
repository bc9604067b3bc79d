// CUDA benchmarks of the fused quantizers (the cases of bench/quant_cases.h: EWGS, LSQ, DAQ weight,
// SAT weight, CG-PACT, AQE, DoReFa weight, PACT, BNN, XNOR weight). Compiled only in CUDA builds;
// every benchmark skips (SkipWithError) when no GPU is present.
//
// Measured, on N = 64 M f32 elements ([65536, 1024], 256 MB per tensor) through the library ops
// (output allocation from the caching allocator and dispatch included):
//   CudaQuant/copy            : cudaMemcpyAsync device-to-device of the 256 MB of x, the bandwidth
//                               ceiling of this run (bytes = read + write = 512 MB).
//   CudaQuant/<method>/fwd    : the training forward (recorded), floor 8 B per element;
//   CudaQuant/<method>/fwd_bwd: the forward plus its backward node applied to a fixed g (the
//                               gradient of sum(y·g), no loss), floor 20 B per element.
//   Both floors add 4 B per element for each reduction pass over x the method needs before its
//   elementwise pass: DAQ weight stats (1), SAT max|tanh w| and Var[Q] (2), DoReFa max|tanh w| (1).
//   XNOR's per-channel α (0) is reduced over one 4 KB row while the row is in registers or cache.
// Each method is first validated (once per process) against the CPU op on a [1024, 1024] slice of
// the same inputs (1 M elements: many blocks, the float4 paths and the in-kernel reductions):
// y and dx within 1e-5·(1 + |want|) except at most 1 element in 1e5 (f32 tanh/FMA differences may
// move an element within rounding of a decision point to the other level), parameter gradients
// within that plus 1e-6 per element. Then timed with CUDA events on the backend's current stream,
// 10 calls after a warm-up call.
// Counters: GB_per_s (floor bytes / time) and floor_ratio (time / (floor bytes / copy bandwidth),
// the copy measured once per process before the first timing; goal <= 1.15 on an H100).
//
// Run: build/bench/lowbit-bench --benchmark_filter=CudaQuant
#if LOWBIT_WITH_CUDA

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <map>
#include <string>
#include <vector>

#include "bench/quant_cases.h"
#include "core/device.h"
#include "kernels/cuda/context.h"
#include "bench/bench_cuda_util.h"

namespace {

using lowbit::Device;
using lowbit::Tensor;
using namespace lowbit::qbench;
using namespace lowbit::bench;

constexpr int64_t kRows = 65536, kN = kRows * kCols;  // 64 M elements
constexpr int64_t kValRows = 1024;                    // validation slice: [1024, 1024]

struct Inputs {
  std::vector<float> x_val, g_val;  // the slice's host values
  Tensor x, g;                      // on cuda:0; x requires grad (a leaf, as a weight)
};

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs r;
    std::vector<float> x = x_values(kN), g = g_values(kN);
    r.x_val.assign(x.begin(), x.begin() + kValRows * kCols);
    r.g_val.assign(g.begin(), g.begin() + kValRows * kCols);
    r.x = Tensor::from_vector(x, {kRows, kCols}, Device::cuda()).requires_grad_();
    r.g = Tensor::from_vector(g, {kRows, kCols}, Device::cuda());
    return r;
  }();
  return in;
}

void copy_x(const Tensor& dst) {
  copy_floats_d2d(dst, inputs().x, kN);
}

// Bytes/s of a device-to-device copy of the N floats of x (read + write), measured once.
double copy_bytes_per_s() {
  static const double bw = measure_copy_bytes_per_s(inputs().x);
  return bw;
}

// Empty when the CUDA op matches the CPU op on the slice (checked once per case).
const std::string& validation_error(const QuantCase& c) {
  static std::map<std::string, std::string> done;
  auto it = done.find(c.name);
  if (it != done.end()) return it->second;
  const Inputs& in = inputs();
  const int64_t n = kValRows * kCols;
  std::string err;
  try {
    Run want = run_op(c, in.x_val, in.g_val, {kValRows, kCols}, Device::cpu());
    Run got = run_op(c, in.x_val, in.g_val, {kValRows, kCols}, Device::cuda());
    err = compare_runs(want, got, 1e-5, n / 100000, 1e-6 * static_cast<double>(n));
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (!err.empty()) err = std::string(c.name) + " vs the CPU op: " + err;
  return done.emplace(c.name, err).first->second;
}

void report(benchmark::State& state, double ms, double bytes) {
  state.counters["GB_per_s"] = bytes / (ms * 1e-3) / 1e9;
  state.counters["floor_ratio"] = ms * 1e-3 / (bytes / copy_bytes_per_s());
}

void BM_copy(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  Tensor dst = Tensor::empty({kRows, kCols}, lowbit::DType::f32, Device::cuda());
  copy_x(dst);
  cudaStreamSynchronize(lowbit::cuda::current_stream());
  std::vector<float> head = dst.slice(0, 0, kValRows).to_vector();
  if (head != inputs().x_val) return state.SkipWithError("device-to-device copy mismatch");
  double ms = 0;
  for (auto _ : state) {
    ms = time_ms([&] { copy_x(dst); }, 10);
    state.SetIterationTime(ms * 1e-3);
  }
  report(state, ms, 2.0 * kN * sizeof(float));
}

void BM_quant(benchmark::State& state, const QuantCase* c, bool backward) {
  if (skip_without_gpu(state)) return;
  if (const std::string& err = validation_error(*c); !err.empty()) return state.SkipWithError(err.c_str());
  const Inputs& in = inputs();
  std::vector<Tensor> p = c->params(Device::cuda());
  copy_bytes_per_s();  // measured before the op's timing, outside it
  double ms = 0;
  for (auto _ : state) {
    ms = time_ms(
        [&] {
          if (backward) {
            std::vector<Tensor> grads = forward_backward(*c, in.x, p, in.g);
            benchmark::DoNotOptimize(grads);
          } else {
            Tensor y = c->op(in.x, p);
            benchmark::DoNotOptimize(y);
          }
        },
        10);
    state.SetIterationTime(ms * 1e-3);
  }
  report(state, ms, floor_bytes_per_element(*c, backward) * static_cast<double>(kN));
}

const bool registered = register_quant_benchmarks("CudaQuant", BM_copy, BM_quant, benchmark::kMicrosecond);

}  // namespace

#endif  // LOWBIT_WITH_CUDA
