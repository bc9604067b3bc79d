// Device {CPU, CUDA, index}. core/ knows devices only as this value; kernels/ implement them.
#pragma once

#include <cstdint>
#include <string>

#include "core/export.h"

namespace lowbit {

enum class DeviceType : uint8_t { CPU, CUDA };

struct LOWBIT_API Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device&) const = default;
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// True when the library was built with the CUDA backend.
LOWBIT_API bool built_with_cuda();
// Number of usable CUDA devices (0 when built without CUDA or when no GPU/driver is present).
LOWBIT_API int cuda_device_count();
inline bool cuda_available() { return cuda_device_count() > 0; }

// The CUDA caching allocator's counters for one device (all zero in a build without CUDA or for a
// device that has none). Sizes are the allocator's rounded block sizes.
struct CudaMemoryStats {
  uint64_t bytes_in_use = 0;       // held by live tensors and buffers
  uint64_t bytes_cached = 0;       // freed blocks kept for reuse (not returned to the driver)
  uint64_t peak_bytes_in_use = 0;  // high-water mark of bytes_in_use
  uint64_t num_allocs = 0;         // allocation requests
  uint64_t num_cache_hits = 0;     // ... served from the cache
  uint64_t num_cuda_mallocs = 0;   // cudaMalloc calls
  uint64_t num_cuda_frees = 0;     // cudaFree calls
};
LOWBIT_API CudaMemoryStats cuda_memory_stats(int device = 0);
// Returns every cached (free) CUDA block to the driver, after waiting for queued work on each
// device; memory held by live tensors stays. Also frees idle pinned staging buffers. No-op
// without CUDA.
LOWBIT_API void cuda_empty_cache();

}  // namespace lowbit
