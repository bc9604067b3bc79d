// The pinned host block cache behind PinnedBuffer (kernels/cuda/pinned.h). One mutex; a lookup
// polls the events of the cached blocks of the wanted size (cudaEventQuery, no waiting).
#include "kernels/cuda/pinned.h"

#include <map>
#include <mutex>
#include <utility>

namespace lowbit::cuda {

namespace {

constexpr size_t kMinBlock = size_t{64} << 10;

struct Block {
  void* data;
  cudaEvent_t event;
};

struct PinnedCache {
  std::mutex mutex;
  std::multimap<size_t, Block> free_blocks;
};

PinnedCache& cache() {
  static PinnedCache* c = new PinnedCache();  // never destroyed (driver may be gone at exit)
  return *c;
}

size_t round_pinned(size_t n) {
  size_t s = kMinBlock;
  while (s < n) s <<= 1;
  return s;
}

}  // namespace

PinnedBuffer::PinnedBuffer(size_t nbytes) {
  const size_t size = round_pinned(nbytes);
  PinnedCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto [first, last] = c.free_blocks.equal_range(size);
    for (auto it = first; it != last; ++it) {
      cudaError_t st = cudaEventQuery(it->second.event);
      if (st == cudaSuccess) {
        data_ = it->second.data;
        event_ = it->second.event;
        size_ = size;
        c.free_blocks.erase(it);
        return;
      }
      if (st != cudaErrorNotReady) cudaGetLastError();
    }
  }
  cudaEvent_t ev = nullptr;
  if (cudaHostAlloc(&data_, size, cudaHostAllocDefault) != cudaSuccess) {
    cudaGetLastError();
    data_ = nullptr;
    return;
  }
  if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    cudaFreeHost(data_);
    data_ = nullptr;
    return;
  }
  size_ = size;
  event_ = ev;
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      stream_(other.stream_),
      event_(std::exchange(other.event_, nullptr)) {}

PinnedBuffer::~PinnedBuffer() {
  if (!data_) return;
  auto ev = static_cast<cudaEvent_t>(event_);
  if (cudaEventRecord(ev, stream_) != cudaSuccess) {  // cannot track the copy: wait for it
    cudaGetLastError();
    cudaStreamSynchronize(stream_);
    cudaGetLastError();
  }
  PinnedCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.free_blocks.emplace(size_, Block{data_, ev});
}

void trim_pinned_cache() {
  PinnedCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto it = c.free_blocks.begin(); it != c.free_blocks.end();) {
    if (cudaEventQuery(it->second.event) == cudaSuccess) {
      cudaFreeHost(it->second.data);
      cudaEventDestroy(it->second.event);
      it = c.free_blocks.erase(it);
    } else {
      cudaGetLastError();
      ++it;
    }
  }
}

}  // namespace lowbit::cuda
