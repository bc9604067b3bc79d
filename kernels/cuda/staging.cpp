// Staging blocks over the pinned block cache (kernels/cuda/staging.h).
#include "kernels/cuda/staging.h"

#include <memory>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/pinned.h"
#include "kernels/cuda/runtime.h"

namespace lowbit::cuda {

struct StagingBlock {
  PinnedBuffer buffer;
};

StagingBlock* staging_acquire(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  if (device_count() == 0) return nullptr;
  auto block = std::make_unique<StagingBlock>(StagingBlock{PinnedBuffer(nbytes)});
  if (!block->buffer.data()) return nullptr;
  return block.release();
}

void* staging_data(StagingBlock* block) { return block->buffer.data(); }

void staging_upload(StagingBlock* block, void* dst, int device, size_t nbytes) {
  std::unique_ptr<StagingBlock> owned(block);  // given back (with the stream's event) on every path
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  owned->buffer.set_stream(s);
  LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, owned->buffer.data(), nbytes, cudaMemcpyHostToDevice, s));
  owned.reset();  // records the block's event while `device` is current
}

void staging_release(StagingBlock* block) noexcept { delete block; }

}  // namespace lowbit::cuda
