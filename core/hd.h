// LOWBIT_HD marks small inline functions shared by host and device code: the per-element math of
// an op is written once here-style and used by the CPU loop and the CUDA kernel alike. The few
// primitives below differ between the two sides only in spelling: on the device the f32 mul/add
// are the explicitly rounded intrinsics (no FMA contraction, so the kernel matches the CPU loop bit
// for bit); on the host they are the plain operators.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define LOWBIT_HD __host__ __device__ __forceinline__
#else
#define LOWBIT_HD inline
#endif

namespace lowbit {

LOWBIT_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

LOWBIT_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

LOWBIT_HD float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

LOWBIT_HD bool is_nan(float v) {
#if defined(__CUDA_ARCH__)
  return isnan(v);
#else
  return std::isnan(v);
#endif
}

}  // namespace lowbit
