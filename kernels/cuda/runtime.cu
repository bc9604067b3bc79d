// CUDA runtime entry points for core/: device queries, tensor storage from the caching allocator
// (kernels/cuda/allocator.h), and byte copies on the current stream (kernels/cuda/context.h).
//
// Copies. Host-to-device up to 32 MiB is staged through a pinned block (kernels/cuda/pinned.h):
// one host memcpy, then an asynchronous DMA on the current stream, so the call returns before the
// transfer ends and later kernels on the stream are ordered after it. Larger host-to-device copies
// go straight from pageable memory and wait for the stream (the source must stay valid until the
// DMA ends). Device-to-host copies synchronize the stream before returning: the host reads the
// data next. Same-device copies are only queued. Peer copies between two devices synchronize both
// streams (multi-GPU is a later issue; this keeps the single-stream allocator assumption true).
#include <cstring>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/pinned.h"
#include "kernels/cuda/runtime.h"

namespace lowbit::cuda {

namespace {
constexpr size_t kStageLimit = size_t{32} << 20;
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

void* device_alloc(size_t nbytes, int device) { return allocate(nbytes, device); }

void device_free(void* p, int device) noexcept { deallocate(p, device); }

CudaMemoryStats memory_stats(int device) {
  if (device < 0 || device >= device_count()) return {};
  AllocatorStats s = allocator_stats(device);
  return CudaMemoryStats{s.bytes_in_use,   s.bytes_cached,     s.peak_bytes_in_use, s.num_allocs,
                         s.num_cache_hits, s.num_cuda_mallocs, s.num_cuda_frees};
}

void release_cached_memory() {
  if (device_count() == 0) return;
  empty_cache(-1);
  trim_pinned_cache();
}

void copy(void* dst, bool dst_on_device, int dst_index, const void* src, bool src_on_device,
          int src_index, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_on_device && src_on_device && dst_index != src_index) {
    LOWBIT_CUDA_CHECK(cudaStreamSynchronize(current_stream(src_index)));
    cudaStream_t s = current_stream(dst_index);
    DeviceGuard guard(dst_index);
    LOWBIT_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_index, src, src_index, nbytes, s));
    LOWBIT_CUDA_CHECK(cudaStreamSynchronize(s));
    return;
  }
  const int device = dst_on_device ? dst_index : src_index;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  if (dst_on_device && src_on_device) {
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s));
  } else if (dst_on_device) {
    if (nbytes <= kStageLimit) {
      PinnedBuffer stage(nbytes);
      if (stage.data()) {
        std::memcpy(stage.data(), src, nbytes);
        stage.set_stream(s);  // the block is reused only after this copy has run
        LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, stage.data(), nbytes, cudaMemcpyHostToDevice, s));
        return;
      }
    }
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
    LOWBIT_CUDA_CHECK(cudaStreamSynchronize(s));
  } else {
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
    LOWBIT_CUDA_CHECK(cudaStreamSynchronize(s));  // the host reads dst next
  }
}

}  // namespace lowbit::cuda
