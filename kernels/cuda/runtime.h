// The CUDA runtime entry points core/ needs (memory and device queries), as plain C++
// declarations. Implemented by kernels/cuda/runtime.cu, or by kernels/no_cuda/runtime.cpp,
// which throws "built without CUDA", when the CUDA backend is off.
#pragma once

#include <cstddef>

namespace lowbit::cuda {

bool built();
int device_count();  // 0 when no driver or GPU is present; never throws
void* device_alloc(size_t nbytes, int device);
void device_free(void* p, int device) noexcept;
// Copies nbytes; each side is device memory (with its index) or host memory.
void copy(void* dst, bool dst_on_device, int dst_index, const void* src, bool src_on_device,
          int src_index, size_t nbytes);

}  // namespace lowbit::cuda
