// Page-locked host blocks that the data loader fills itself and then uploads (core/data's image
// batches): plain C++ declarations, implemented over PinnedBuffer (kernels/cuda/pinned.h) by
// kernels/cuda/staging.cpp, or by kernels/no_cuda/staging.cpp, where no block is ever available.
//   StagingBlock* b = staging_acquire(bytes);   // null: no CUDA, no GPU, or no pinned memory
//   fill staging_data(b) on any thread, then
//   staging_upload(b, device_ptr, device, bytes);  // queues the copy, gives the block back
// A block given back is reused only once its copy has run (an event on the stream).
#pragma once

#include <cstddef>

namespace lowbit::cuda {

struct StagingBlock;

StagingBlock* staging_acquire(size_t nbytes);
void* staging_data(StagingBlock* block);
// Queues the copy of nbytes from the block to device memory dst on cuda:device's current stream
// and gives the block back (also when the copy cannot be queued: then it throws).
void staging_upload(StagingBlock* block, void* dst, int device, size_t nbytes);
// Gives a block back without uploading it.
void staging_release(StagingBlock* block) noexcept;

}  // namespace lowbit::cuda
