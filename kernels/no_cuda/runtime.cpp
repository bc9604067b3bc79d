// CUDA runtime stubs for a build without the CUDA backend: queries report no GPU, every other
// entry point throws "<name>: built without CUDA".
#include "core/error.h"
#include "kernels/cuda/runtime.h"

namespace lowbit::cuda {

bool built() { return false; }
int device_count() { return 0; }
void* device_alloc(size_t, int) { LOWBIT_FAIL("device_alloc: built without CUDA"); }
void device_free(void*, int) noexcept {}
CudaMemoryStats memory_stats(int) { return {}; }
void release_cached_memory() {}
void copy(void*, bool, int, const void*, bool, int, size_t) {
  LOWBIT_FAIL("copy to/from a CUDA device: built without CUDA");
}

}  // namespace lowbit::cuda
