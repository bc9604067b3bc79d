// Storage allocation and cross-device byte copies.
#include "core/storage.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/cuda/runtime.h"

namespace lowbit {

std::shared_ptr<Storage> Storage::allocate(int64_t nbytes, Device device) {
  LOWBIT_CHECK(nbytes >= 0, "cannot allocate a negative size (", nbytes, " bytes)");
  void* p = nullptr;
  if (device.is_cpu()) {
    LOWBIT_CHECK(nbytes <= INT64_MAX - 64, "cannot allocate ", nbytes, " bytes");
    size_t rounded = static_cast<size_t>((nbytes + 63) / 64 * 64);
    p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    LOWBIT_CHECK(p != nullptr, "out of host memory allocating ", nbytes, " bytes");
  } else {
    p = cuda::device_alloc(static_cast<size_t>(nbytes), device.index);
  }
  return std::shared_ptr<Storage>(new Storage(p, nbytes, device));
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    std::free(data_);
  } else {
    cuda::device_free(data_, device_.index);  // never throws
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, int64_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memmove(dst, src, static_cast<size_t>(nbytes));  // views of one storage may overlap
    return;
  }
  cuda::copy(dst, dst_device.is_cuda(), dst_device.index, src, src_device.is_cuda(),
             src_device.index, static_cast<size_t>(nbytes));
}

}  // namespace lowbit
