// LOWBIT_CUDA_CHECK: turns a failed CUDA runtime call into lowbit::Error naming the call, the
// CUDA error string, file and line.
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

#define LOWBIT_CUDA_CHECK(call)                                                          \
  do {                                                                                   \
    cudaError_t lowbit_err_ = (call);                                                    \
    if (lowbit_err_ != cudaSuccess)                                                      \
      LOWBIT_FAIL("CUDA call `", #call, "` failed: ", cudaGetErrorString(lowbit_err_));  \
  } while (0)
