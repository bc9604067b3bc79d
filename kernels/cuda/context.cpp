// The per-device context of the CUDA backend (kernels/cuda/context.h): current streams, cuBLAS and
// cuDNN handles bound to them, DeviceGuard and DeviceBuffer. Per-device objects are created once
// (std::call_once) and leaked on purpose (see context.h, "Lifetime").
#include "kernels/cuda/context.h"

#include <memory>
#include <mutex>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/runtime.h"

namespace lowbit::cuda {

namespace {

struct DeviceContext {
  std::once_flag stream_once, cublas_once, cudnn_once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

DeviceContext& context(int device) {
  static const int count = device_count();
  static DeviceContext* contexts = new DeviceContext[count > 0 ? count : 1];  // never destroyed
  LOWBIT_CHECK(device >= 0 && device < count, "CUDA device ", device, " does not exist (", count, " present)");
  return contexts[device];
}

int resolve(int device) { return device < 0 ? current_device() : device; }

}  // namespace

int current_device() {
  int d = 0;
  LOWBIT_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

cudaStream_t current_stream(int device) {
  device = resolve(device);
  DeviceContext& c = context(device);
  std::call_once(c.stream_once, [&] {
    DeviceGuard guard(device);
    LOWBIT_CUDA_CHECK(cudaStreamCreate(&c.stream));  // blocking: ordered with stream 0
  });
  return c.stream;
}

cublasHandle_t cublas_handle() {
  const int device = current_device();
  DeviceContext& c = context(device);
  std::call_once(c.cublas_once, [&] {
    cudaStream_t s = current_stream(device);
    LOWBIT_CUBLAS_CHECK(cublasCreate(&c.cublas));
    LOWBIT_CUBLAS_CHECK(cublasSetStream(c.cublas, s));
  });
  return c.cublas;
}

cudnnHandle_t cudnn_handle() {
  const int device = current_device();
  DeviceContext& c = context(device);
  std::call_once(c.cudnn_once, [&] {
    cudaStream_t s = current_stream(device);
    LOWBIT_CUDNN_CHECK(cudnnCreate(&c.cudnn));
    LOWBIT_CUDNN_CHECK(cudnnSetStream(c.cudnn, s));
  });
  return c.cudnn;
}

void synchronize(int device) {
  device = resolve(device);
  LOWBIT_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)));
}

DeviceGuard::DeviceGuard(int device) {
  LOWBIT_CUDA_CHECK(cudaGetDevice(&previous_));
  if (device >= 0 && device != previous_) {
    LOWBIT_CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_) cudaSetDevice(previous_);
}

DeviceBuffer::DeviceBuffer(size_t nbytes, int device)
    : data_(allocate(nbytes, resolve(device))), size_(nbytes), device_(resolve(device)) {}

DeviceBuffer::~DeviceBuffer() { deallocate(data_, device_); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), device_(other.device_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    deallocate(data_, device_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    device_ = other.device_;
  }
  return *this;
}

}  // namespace lowbit::cuda
