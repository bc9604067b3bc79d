// Storage: one contiguous allocation on one device, shared by every tensor view of it.
// CPU memory is 64-byte aligned; CUDA memory comes from the CUDA backend's allocator.
#pragma once

#include <cstdint>
#include <memory>

#include "core/device.h"
#include "core/export.h"

namespace lowbit {

class LOWBIT_API Storage {
 public:
  static std::shared_ptr<Storage> allocate(int64_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  int64_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  Storage(void* data, int64_t nbytes, Device device) : data_(data), nbytes_(nbytes), device_(device) {}
  void* data_;
  int64_t nbytes_;
  Device device_;
};

// Copies bytes between any two devices (host<->device, device<->device, host<->host).
LOWBIT_API void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                           int64_t nbytes);

}  // namespace lowbit
