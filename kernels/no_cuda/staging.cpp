// Staging blocks without the CUDA backend (kernels/cuda/staging.h): none is ever available.
#include "kernels/cuda/staging.h"

#include "core/error.h"

namespace lowbit::cuda {

struct StagingBlock {};

StagingBlock* staging_acquire(size_t) { return nullptr; }
void* staging_data(StagingBlock*) { return nullptr; }
void staging_upload(StagingBlock*, void*, int, size_t) { LOWBIT_FAIL("staging_upload: built without CUDA"); }
void staging_release(StagingBlock*) noexcept {}

}  // namespace lowbit::cuda
