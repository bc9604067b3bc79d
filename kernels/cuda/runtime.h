// The CUDA runtime entry points core/ needs (memory and device queries), as plain C++
// declarations. Implemented by kernels/cuda/runtime.cu, or by kernels/no_cuda/runtime.cpp,
// which throws "built without CUDA", when the CUDA backend is off.
#pragma once

#include <cstddef>

#include "core/device.h"

namespace lowbit::cuda {

bool built();
int device_count();  // 0 when no driver or GPU is present; never throws
// Tensor storage: from the caching allocator (kernels/cuda/allocator.h).
void* device_alloc(size_t nbytes, int device);
void device_free(void* p, int device) noexcept;
// Allocator statistics of one device (zeros without CUDA) and empty_cache (no-op without CUDA).
CudaMemoryStats memory_stats(int device);
void release_cached_memory();
// Copies nbytes on the current stream of the device involved; each side is device memory (with
// its index) or host memory. Host-to-device returns once the source may be reused (the DMA may
// still be queued); device-to-host returns once the data is in dst; device-to-device is queued.
void copy(void* dst, bool dst_on_device, int dst_index, const void* src, bool src_on_device,
          int src_index, size_t nbytes);

}  // namespace lowbit::cuda
