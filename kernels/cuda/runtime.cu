// CUDA runtime entry points: device queries, allocation and copies on the current stream.
// The caching allocator and streams of the CUDA backend issue replace the plain cudaMalloc here.
#include "kernels/cuda/check.h"
#include "kernels/cuda/runtime.h"

namespace lowbit::cuda {

namespace {
struct DeviceGuard {  // sets the current device for a scope and restores the previous one
  int previous = 0;
  explicit DeviceGuard(int device) {
    LOWBIT_CUDA_CHECK(cudaGetDevice(&previous));
    if (device != previous) LOWBIT_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous); }
};
}  // namespace

bool built() { return true; }

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no driver" error
      return 0;
    }
    return n;
  }();
  return count;
}

void* device_alloc(size_t nbytes, int device) {
  LOWBIT_CHECK(device >= 0 && device < device_count(), "CUDA device ", device,
               " does not exist (", device_count(), " present)");
  DeviceGuard guard(device);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, nbytes == 0 ? 1 : nbytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    LOWBIT_FAIL("CUDA out of memory: asked for ", nbytes, " bytes on cuda:", device, " (",
                cudaGetErrorString(err), ")");
  }
  return p;
}

void device_free(void* p, int device) noexcept {
  if (!p) return;
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(device);
  cudaFree(p);
  cudaSetDevice(previous);
}

void copy(void* dst, bool dst_on_device, int dst_index, const void* src, bool src_on_device,
          int src_index, size_t nbytes) {
  cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice
                                                       : cudaMemcpyHostToDevice)
                                      : cudaMemcpyDeviceToHost;
  DeviceGuard guard(dst_on_device ? dst_index : src_index);
  if (dst_on_device && src_on_device && dst_index != src_index) {
    LOWBIT_CUDA_CHECK(cudaMemcpyPeer(dst, dst_index, src, src_index, nbytes));
  } else {
    LOWBIT_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, kind));
  }
}

}  // namespace lowbit::cuda
