// The caching device allocator of the CUDA backend: every device allocation of lowbit (tensor
// storage, DeviceBuffer scratch) comes from here, so steady-state training never calls cudaMalloc
// or cudaFree.
//
// Policy. Sizes are rounded up (to 512 B up to 1 MiB, to 2 MiB above), and freed blocks go to a
// per-device free list keyed by their rounded size; a request takes the smallest cached block that
// fits it with at most 1/8 slack (blocks are never split), and calls cudaMalloc only when none
// does. When cudaMalloc fails the device's cache is returned to the driver and the call retried
// once; a second failure throws "CUDA out of memory: asked for N bytes on cuda:D; ...".
//
// Stream-ordered safety. All work of the backend runs on one stream per device (the current stream
// of kernels/cuda/context.h; the legacy stream 0 is ordered with it, as the current stream is a
// blocking stream). A block freed by the host while kernels using it are still
// queued is therefore only reused by work queued *later on the same stream*, which runs after them:
// no event per block is needed. Work on any other stream (user streams, a second stream per device)
// would break this assumption and must not receive memory from this allocator.
//
// The allocator is never destroyed (blocks held at exit are reclaimed by the driver with the
// process), so tensors destroyed during static destruction can still free into it safely.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lowbit::cuda {

struct AllocatorStats {
  uint64_t bytes_in_use = 0;       // rounded sizes of the blocks handed out and not yet freed
  uint64_t bytes_cached = 0;       // rounded sizes of the free blocks held for reuse
  uint64_t peak_bytes_in_use = 0;  // high-water mark of bytes_in_use
  uint64_t num_allocs = 0;         // allocate() calls
  uint64_t num_cache_hits = 0;     // ... served from the cache
  uint64_t num_cuda_mallocs = 0;   // cudaMalloc calls that succeeded
  uint64_t num_cuda_frees = 0;     // cudaFree calls (empty_cache, OOM retry)
};

// The size a request of nbytes is rounded up to (at least 512 B).
size_t round_allocation(size_t nbytes);

// A block of at least nbytes on `device` (valid index checked); never returns null.
void* allocate(size_t nbytes, int device);
// Returns a block to the cache of its device (no CUDA call; never throws). Null is ignored.
void deallocate(void* p, int device) noexcept;
// Returns every cached block of every device (device < 0) or of one device to the driver, after
// synchronizing that device so that no queued work can still touch them.
void empty_cache(int device = -1);
AllocatorStats allocator_stats(int device);

}  // namespace lowbit::cuda
