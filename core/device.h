// Device {CPU, CUDA, index}. core/ knows devices only as this value; kernels/ implement them.
#pragma once

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

}  // namespace lowbit
