// CUDA caching-allocator benchmark (compiled only in CUDA builds; skips without a GPU).
//
// Steady-state overhead of tensor allocation: each iteration creates and drops a mix of tensor
// sizes typical of a training step (4 KiB .. 64 MiB) through Tensor::empty on cuda:0. After the
// warm-up every request must be served from the cache: the benchmark fails (SkipWithError) if a
// cudaMalloc happens during the timed loop. Peer, measured in the same run: the same sizes with
// raw cudaMalloc/cudaFree. Counters: ns per allocation (host time; no kernel runs) and the ratio
// to the raw driver calls (goal: far below 1).
//
// Run: build/bench/lowbit-bench --benchmark_filter=CudaAllocator
#if LOWBIT_WITH_CUDA
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <chrono>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace {

const std::vector<int64_t>& sizes() {  // f32 element counts
  static const std::vector<int64_t> s = {1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24, 3 << 10, 5 << 16};
  return s;
}

double raw_driver_ns_per_alloc() {
  static const double ns = [] {
    const int rounds = 20;
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r)
      for (int64_t n : sizes()) {
        void* p = nullptr;
        if (cudaMalloc(&p, static_cast<size_t>(n) * 4) != cudaSuccess) return -1.0;
        cudaFree(p);
      }
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / (rounds * sizes().size());
  }();
  return ns;
}

void BM_CudaAllocatorSteadyState(benchmark::State& state) {
  if (!lowbit::cuda_available()) {
    state.SkipWithError("no CUDA device present");
    return;
  }
  const double raw_ns = raw_driver_ns_per_alloc();
  if (raw_ns < 0) {
    state.SkipWithError("cudaMalloc failed for the peer measurement");
    return;
  }
  auto step = [] {
    std::vector<lowbit::Tensor> live;
    for (int64_t n : sizes()) live.push_back(lowbit::Tensor::empty({n}, lowbit::DType::f32, lowbit::Device::cuda()));
  };
  step();  // warm-up fills the cache
  const uint64_t mallocs_before = lowbit::cuda_memory_stats().num_cuda_mallocs;
  for (auto _ : state) step();
  const uint64_t mallocs_during = lowbit::cuda_memory_stats().num_cuda_mallocs - mallocs_before;
  if (mallocs_during != 0) {
    state.SkipWithError("the allocator called cudaMalloc in steady state");
    return;
  }
  const double allocs = static_cast<double>(state.iterations() * sizes().size());
  state.counters["allocs"] = benchmark::Counter(allocs, benchmark::Counter::kIsRate);
  state.counters["raw_driver_ns"] = raw_ns;
  state.counters["cuda_mallocs_in_loop"] = static_cast<double>(mallocs_during);
}
BENCHMARK(BM_CudaAllocatorSteadyState)->Name("CudaAllocator/steady_state")->UseRealTime();

}  // namespace
#endif  // LOWBIT_WITH_CUDA
