// CUDA helpers shared by the bench_cuda_*.cpp files (include only under #if LOWBIT_WITH_CUDA):
// the no-GPU skip, CUDA-event timing on the backend's current stream (per batch and best of
// batches), the benchmarks' own cuDNN handle and convolution descriptors for direct peer calls, and
// the device-to-device copy bandwidth ceiling (bytes = read + write).
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "bench/bench_util.h"
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

// Milliseconds per call of f() on the current stream: `reps` calls between two events, no warm-up.
template <typename F>
double events_ms(F&& f, int reps) {
  cudaStream_t s = cuda::current_stream();
  cuda::CudaEvent e0, e1;
  LOWBIT_CUDA_CHECK(cudaEventCreate(e0.out()));
  LOWBIT_CUDA_CHECK(cudaEventCreate(e1.out()));
  LOWBIT_CUDA_CHECK(cudaEventRecord(e0, s));
  for (int i = 0; i < reps; ++i) f();
  LOWBIT_CUDA_CHECK(cudaEventRecord(e1, s));
  LOWBIT_CUDA_CHECK(cudaEventSynchronize(e1));
  float ms = 0.f;
  LOWBIT_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
  return static_cast<double>(ms) / reps;
}

// Milliseconds per call of f() on the current stream: one warm-up call, then `reps` calls
// between two events.
template <typename F>
double time_ms(F&& f, int reps) {
  f();
  return events_ms(f, reps);
}

// Seconds per call of f(): the best of 3 batches of 10 calls, each after a warm-up call (time_ms).
template <typename F>
double best_seconds(F&& f) {
  double best = 1e30;
  for (int i = 0; i < 3; ++i) best = std::min(best, time_ms(f, 10) * 1e-3);
  return best;
}

// A cuDNN handle of the benchmarks' own for direct peer calls (not the backend's), bound to the
// current stream. Created on first use, never destroyed (see kernels/cuda/context.h).
inline cudnnHandle_t direct_cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t handle = nullptr;
    LOWBIT_CUDNN_CHECK(cudnnCreate(&handle));
    return handle;
  }();
  LOWBIT_CUDNN_CHECK(cudnnSetStream(h, cuda::current_stream()));
  return h;
}

// Creates and sets the cuDNN descriptors of the NHWC convolution s in data type `type`: x
// [N,H,W,C], y [N,OH,OW,O], the OHWI weights as an NHWC filter [O,K,K,C], cross-correlation with
// f32 accumulation and math type `math`. Takes raw handles' addresses or Unique::out().
inline void make_conv_descriptors(const ConvShape& s, cudnnDataType_t type, cudnnMathType_t math,
                                  cudnnTensorDescriptor_t* x, cudnnTensorDescriptor_t* y, cudnnFilterDescriptor_t* w,
                                  cudnnConvolutionDescriptor_t* conv) {
  LOWBIT_CUDNN_CHECK(cudnnCreateTensorDescriptor(x));
  LOWBIT_CUDNN_CHECK(cudnnCreateTensorDescriptor(y));
  LOWBIT_CUDNN_CHECK(cudnnCreateFilterDescriptor(w));
  LOWBIT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(conv));
  auto i = [](int64_t v) { return static_cast<int>(v); };
  LOWBIT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(*x, CUDNN_TENSOR_NHWC, type, i(s.N), i(s.C), i(s.H), i(s.W)));
  LOWBIT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(*y, CUDNN_TENSOR_NHWC, type, i(s.N), i(s.O), i(s.OH()), i(s.OW())));
  LOWBIT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(*w, type, CUDNN_TENSOR_NHWC, i(s.O), i(s.C), i(s.K), i(s.K)));
  LOWBIT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(*conv, i(s.pad), i(s.pad), i(s.stride), i(s.stride), 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  LOWBIT_CUDNN_CHECK(cudnnSetConvolutionMathType(*conv, math));
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
