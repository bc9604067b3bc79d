// Device dispatch helpers for ops. Each op switches visibly on the device:
//   switch (x.device().type) { case DeviceType::CPU: cpu::relu_fwd(...); break;
//                              case DeviceType::CUDA: cuda::relu_fwd(...); break; }
// Ops whose CUDA kernel has not been written yet call cuda_missing("op") in the CUDA case: it
// throws "<op>: built without CUDA" in a CPU-only build and "<op>: no CUDA kernel yet" otherwise.
// Nothing ever falls back silently to another device.
#pragma once

#include "core/export.h"

namespace lowbit {

[[noreturn]] LOWBIT_API void cuda_missing(const char* op);

}  // namespace lowbit
