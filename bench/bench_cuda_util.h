// CUDA helpers shared by the bench_cuda_*.cpp files (include only under #if LOWBIT_WITH_CUDA):
// the no-GPU skip, CUDA-event timing on the backend's current stream, and the device-to-device
// copy bandwidth ceiling (bytes = read + write).
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/device.h"
#include "core/tensor.h"
#include "kernels/cuda/context.h"

namespace lowbit::bench {

constexpr const char* kNoGpu = "no CUDA device present";

// True (after marking the benchmark skipped) when no GPU is present.
inline bool skip_without_gpu(benchmark::State& state) {
  if (cuda_available()) return false;
  state.SkipWithError(kNoGpu);
  return true;
}

// Milliseconds per call of f() on the current stream: one warm-up call, then `reps` calls
// between two events.
template <typename F>
double time_ms(F&& f, int reps) {
  cudaStream_t s = cuda::current_stream();
  f();
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  cudaEventRecord(e0, s);
  for (int i = 0; i < reps; ++i) f();
  cudaEventRecord(e1, s);
  cudaEventSynchronize(e1);
  float ms = 0.f;
  cudaEventElapsedTime(&ms, e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return static_cast<double>(ms) / reps;
}

// Enqueues a device-to-device copy of n floats from src to dst on the current stream.
inline void copy_floats_d2d(const Tensor& dst, const Tensor& src, int64_t n) {
  cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * sizeof(float), cudaMemcpyDeviceToDevice, cuda::current_stream());
}

// Bytes/s of a device-to-device copy of the f32 CUDA tensor src (read + write), timed over 20
// copies after a warm-up; callers cache it once per process.
inline double measure_copy_bytes_per_s(const Tensor& src) {
  Tensor dst = Tensor::empty(src.shape(), DType::f32, Device::cuda());
  const int64_t n = src.numel();
  double ms = time_ms([&] { copy_floats_d2d(dst, src, n); }, 20);
  return 2.0 * n * sizeof(float) / (ms * 1e-3);
}

}  // namespace lowbit::bench
