// The CUDA backend's per-device context, for CUDA-backend sources only (.cu and the cuBLAS/cuDNN
// glue .cpp files; core/ never includes this): the current stream, library handles bound to it,
// and device memory from the caching allocator. Everything here throws lowbit::Error with the
// failing call, file and line (kernels/cuda/check.h, and the cuBLAS/cuDNN macros below).
//
// Lifetime. Streams and handles are created on first use and deliberately never destroyed: at
// process exit the CUDA driver may already be shut down when static destructors run, and
// destroying a handle then crashes or reports errors; the driver reclaims them with the process.
// The RAII wrappers below are for objects made and destroyed while the program runs (descriptors,
// events); don't keep them in static storage.
//
// Threads. One host thread drives a device at a time (handles and the current stream are shared
// per device, not per thread). Ops on a tensor of cuda:i use the current device's context, so
// cuda:i must be the current device (multi-GPU plumbing beyond Device::cuda(i) is a later issue).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda/check.h"

#define LOWBIT_CUBLAS_CHECK(call)                                                                  \
  do {                                                                                             \
    cublasStatus_t lowbit_st_ = (call);                                                            \
    if (lowbit_st_ != CUBLAS_STATUS_SUCCESS)                                                       \
      LOWBIT_FAIL("cuBLAS call `", #call, "` failed: ", cublasGetStatusString(lowbit_st_));        \
  } while (0)

#define LOWBIT_CUDNN_CHECK(call)                                                                   \
  do {                                                                                             \
    cudnnStatus_t lowbit_st_ = (call);                                                             \
    if (lowbit_st_ != CUDNN_STATUS_SUCCESS)                                                        \
      LOWBIT_FAIL("cuDNN call `", #call, "` failed: ", cudnnGetErrorString(lowbit_st_));           \
  } while (0)

namespace lowbit::cuda {

// The device whose context is used: the current CUDA device (cudaGetDevice).
int current_device();

// The current stream of a device (-1: the current device); one per device, created on first use
// with cudaStreamCreate, i.e. a *blocking* stream: it is implicitly ordered with the legacy
// default stream 0, so work that code outside the backend puts on stream 0 stays in order with
// everything on the current stream, both ways. Every kernel and library call of the backend runs
// on it; the caching allocator relies on that single stream (kernels/cuda/allocator.h).
cudaStream_t current_stream(int device = -1);

// cuBLAS / cuDNN handles of the current device, bound to its current stream (cublasSetStream /
// cudnnSetStream at creation; the stream never changes). Created on first use, never destroyed.
cublasHandle_t cublas_handle();
cudnnHandle_t cudnn_handle();

// Waits for everything queued on a device's current stream (tests, benchmarks, copies to the
// host; never inside an op).
void synchronize(int device = -1);

// Sets the current device for a scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

// Owns one CUDA/cuDNN object and destroys it with Destroy (errors ignored: destructors never
// throw). Create with the matching create call: `CudnnTensorDesc d; LOWBIT_CUDNN_CHECK(
// cudnnCreateTensorDescriptor(d.out()));`.
template <typename T, auto Destroy>
class Unique {
 public:
  Unique() = default;
  explicit Unique(T v) : v_(v) {}
  ~Unique() { reset(); }
  Unique(Unique&& o) noexcept : v_(std::exchange(o.v_, T{})) {}
  Unique& operator=(Unique&& o) noexcept {
    if (this != &o) {
      reset();
      v_ = std::exchange(o.v_, T{});
    }
    return *this;
  }
  Unique(const Unique&) = delete;
  Unique& operator=(const Unique&) = delete;
  T get() const { return v_; }
  operator T() const { return v_; }  // NOLINT: passes straight into the C APIs
  T* out() {  // for create calls; destroys what was held
    reset();
    return &v_;
  }
  void reset() {
    if (v_) (void)Destroy(v_);
    v_ = T{};
  }

 private:
  T v_{};
};

using CudaEvent = Unique<cudaEvent_t, cudaEventDestroy>;
using CudnnTensorDesc = Unique<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;
using CudnnFilterDesc = Unique<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor>;
using CudnnConvDesc = Unique<cudnnConvolutionDescriptor_t, cudnnDestroyConvolutionDescriptor>;
using CudnnActivationDesc = Unique<cudnnActivationDescriptor_t, cudnnDestroyActivationDescriptor>;
using CudnnPoolingDesc = Unique<cudnnPoolingDescriptor_t, cudnnDestroyPoolingDescriptor>;

// Device memory from the caching allocator, released when the object dies (returned to the
// cache, not to the driver). Use for scratch space (cuDNN workspaces, reduction partials).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t nbytes, int device = -1);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T> T* as() const { return static_cast<T*>(data_); }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  int device_ = 0;
};

// Grid size for a grid-stride elementwise kernel over n elements.
inline unsigned grid_for(long long n, unsigned block = 256, unsigned max_blocks = 65535u * 4u) {
  long long g = (n + block - 1) / block;
  if (g < 1) g = 1;
  return static_cast<unsigned>(g > max_blocks ? max_blocks : g);
}

}  // namespace lowbit::cuda
