// Pinned (page-locked) host memory for host-to-device staging: cudaHostAlloc'd blocks cached by
// size (powers of two from 64 KiB), each with an event recorded when it is given back, so a block
// is reused only once the copy that read it has finished. Used by cuda::copy (runtime.cu) for
// host-to-device transfers of 64 KiB .. 32 MiB from pageable memory: the host memcpy into the
// pinned block returns and the DMA runs asynchronously on the current stream. Blocks are never
// returned to the driver except by trim (cuda_empty_cache) and are leaked at exit like handles.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace lowbit::cuda {

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  // A block of at least nbytes; data() is null when pinned memory could not be had (callers then
  // fall back to pageable copies).
  explicit PinnedBuffer(size_t nbytes);
  // Gives the block back; it is reused once everything queued on `stream` so far has run.
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&&) = delete;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  // The stream whose queued work reads or writes the block (recorded when it is given back).
  void set_stream(cudaStream_t stream) { stream_ = stream; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  void* event_ = nullptr;  // cudaEvent_t of the block
};

// Frees cached pinned blocks whose last copy has completed.
void trim_pinned_cache();

}  // namespace lowbit::cuda
