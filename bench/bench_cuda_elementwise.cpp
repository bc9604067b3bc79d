// CUDA elementwise and reduction benchmarks (compiled only in CUDA builds; skip without a GPU).
//
// Measured, on 64 M f32 elements (256 MB per tensor), through the library ops (output allocation
// from the caching allocator and dispatch included):
//   CudaEw/copy     : cudaMemcpyAsync device-to-device of 256 MB, the bandwidth ceiling of this run
//                     (bytes = read + write = 512 MB).
//   CudaEw/relu     : relu(x)                          8 B per element
//   CudaEw/add      : add(a, b), same shape            12 B per element
//   CudaEw/add_row  : add(a[65536, 1024], b[1024])     8 B per element (+ the row)
//   CudaEw/sum_last : sum(x[65536, 1024], {-1})        4 B per element (+ 4 B per output)
//   CudaEw/sum_all  : sum(x)                           4 B per element
// Each op's result is first compared with the CPU op on the same input (SkipWithError on a
// mismatch), then timed with CUDA events on the backend's current stream after a warm-up call.
// Counters: GB/s (bytes above / time) and frac_copy (GB/s over the copy's GB/s, measured once at
// the start of this process; goal >= 0.85).
//
// Run: build/bench/lowbit-bench --benchmark_filter=CudaEw
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor.h"
#include "kernels/cuda/context.h"
#include "bench/bench_cuda_util.h"

namespace {

using lowbit::Device;
using lowbit::Shape;
using lowbit::Tensor;
using namespace lowbit::bench;

constexpr int64_t kRows = 65536, kCols = 1024, kN = kRows * kCols;  // 64 M elements

struct Inputs {
  Tensor a_cpu, b_cpu, row_cpu;
  Tensor a, b, row;  // on cuda:0
};

// Uniform [-1, 1) inputs, made once per process.
const Inputs& inputs() {
  static const Inputs in = [] {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    auto make = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      for (auto& x : v) x = u(rng);
      return v;
    };
    Inputs r;
    r.a_cpu = Tensor::from_vector(make(kN), {kRows, kCols});
    r.b_cpu = Tensor::from_vector(make(kN), {kRows, kCols});
    r.row_cpu = Tensor::from_vector(make(kCols), {kCols});
    r.a = r.a_cpu.to(Device::cuda());
    r.b = r.b_cpu.to(Device::cuda());
    r.row = r.row_cpu.to(Device::cuda());
    return r;
  }();
  return in;
}

// Bytes/s of a device-to-device copy of kN floats (read + write), measured once.
double copy_bytes_per_s() {
  static const double bw = measure_copy_bytes_per_s(inputs().a);
  return bw;
}

// Empty when got matches want within atol + rtol*|want|; else the first mismatch.
std::string mismatch(const Tensor& want, const Tensor& got, double atol, double rtol) {
  if (want.shape() != got.shape()) return "shape " + lowbit::shape_str(got.shape()) + " vs " + lowbit::shape_str(want.shape());
  std::vector<float> w = want.to_vector(), g = got.to_vector();
  for (size_t i = 0; i < w.size(); ++i) {
    if (std::abs(static_cast<double>(w[i]) - g[i]) > atol + rtol * std::abs(static_cast<double>(w[i]))) {
      std::ostringstream os;
      os << "element " << i << ": cuda " << g[i] << ", cpu " << w[i];
      return os.str();
    }
  }
  return "";
}

void report(benchmark::State& state, double ms, double bytes) {
  const double bps = bytes / (ms * 1e-3);
  state.counters["GB/s"] = bps / 1e9;
  state.counters["frac_copy"] = bps / copy_bytes_per_s();
}

// Validates op_cuda() against op_cpu(), then times it.
template <typename Cuda, typename Cpu>
void run(benchmark::State& state, Cuda op_cuda, Cpu op_cpu, double bytes, double atol, double rtol) {
  if (skip_without_gpu(state)) return;
  std::string err = mismatch(op_cpu(), op_cuda(), atol, rtol);
  if (!err.empty()) {
    state.SkipWithError(("mismatch with the CPU op: " + err).c_str());
    return;
  }
  copy_bytes_per_s();  // measured before the op's timing, outside it
  double ms = 0;
  for (auto _ : state) {
    ms = time_ms([&] { benchmark::DoNotOptimize(op_cuda()); }, 10);
    state.SetIterationTime(ms * 1e-3);
  }
  report(state, ms, bytes);
}

void BM_copy(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  Tensor dst = Tensor::empty({kRows, kCols}, lowbit::DType::f32, Device::cuda());
  const Inputs& in = inputs();
  copy_floats_d2d(dst, in.a, kN);
  cudaStreamSynchronize(lowbit::cuda::current_stream());
  std::string err = mismatch(in.a_cpu, dst, 0, 0);
  if (!err.empty()) {
    state.SkipWithError(("copy mismatch: " + err).c_str());
    return;
  }
  double ms = 0;
  for (auto _ : state) {
    ms = time_ms([&] { copy_floats_d2d(dst, in.a, kN); }, 10);
    state.SetIterationTime(ms * 1e-3);
  }
  report(state, ms, 2.0 * kN * sizeof(float));
}

void BM_relu(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const Inputs& in = inputs();
  run(state, [&] { return lowbit::relu(in.a); }, [&] { return lowbit::relu(in.a_cpu); }, 8.0 * kN, 0, 0);
}

void BM_add(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const Inputs& in = inputs();
  run(state, [&] { return lowbit::add(in.a, in.b); }, [&] { return lowbit::add(in.a_cpu, in.b_cpu); }, 12.0 * kN, 0,
      0);
}

void BM_add_row(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const Inputs& in = inputs();
  run(state, [&] { return lowbit::add(in.a, in.row); }, [&] { return lowbit::add(in.a_cpu, in.row_cpu); },
      8.0 * kN + 4.0 * kCols, 0, 0);
}

void BM_sum_last(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const Inputs& in = inputs();
  run(state, [&] { return lowbit::sum(in.a, {-1}); }, [&] { return lowbit::sum(in.a_cpu, {-1}); },
      4.0 * kN + 4.0 * kRows, 1e-5, 1e-5);
}

void BM_sum_all(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const Inputs& in = inputs();
  run(state, [&] { return lowbit::sum(in.a); }, [&] { return lowbit::sum(in.a_cpu); }, 4.0 * kN, 1e-3, 1e-5);
}

}  // namespace

BENCHMARK(BM_copy)->Name("CudaEw/copy")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_relu)->Name("CudaEw/relu")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_add)->Name("CudaEw/add")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_add_row)->Name("CudaEw/add_row")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sum_last)->Name("CudaEw/sum_last")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sum_all)->Name("CudaEw/sum_all")->UseManualTime()->Unit(benchmark::kMicrosecond);
