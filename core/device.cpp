// Device queries, answered by the CUDA backend (or its stubs in a CPU-only build).
#include "core/device.h"

#include "kernels/cuda/runtime.h"

namespace lowbit {

bool built_with_cuda() { return cuda::built(); }
int cuda_device_count() { return cuda::device_count(); }
CudaMemoryStats cuda_memory_stats(int device) { return cuda::memory_stats(device); }
void cuda_empty_cache() { cuda::release_cached_memory(); }

}  // namespace lowbit
