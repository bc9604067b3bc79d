// LOWBIT_HD marks small inline functions shared by host and device code: the per-element math of
// an op is written once here-style and used by the CPU loop and the CUDA kernel alike.
#pragma once

#if defined(__CUDACC__)
#define LOWBIT_HD __host__ __device__ __forceinline__
#else
#define LOWBIT_HD inline
#endif
