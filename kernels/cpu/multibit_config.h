// Options shared by the CPU multi-bit GEMMs (int8, shift, adder): which SIMD path runs (automatic:
// the widest this CPU has; every path gives the same results bit for bit) and how many threads
// split the rows (0: cpu::xnor_threads()). avx512 = AVX-512 F + BW + VNNI; only int8_gemm has an
// AVX-512 kernel, the others run their AVX2 one on that path.
#pragma once

#include <cstdint>

#include "core/error.h"

namespace lowbit::cpu {

enum class MultibitSimd : uint8_t { automatic, scalar, avx2, avx512 };

struct MultibitCpuConfig {
  MultibitSimd simd = MultibitSimd::automatic;
  int threads = 0;
};

inline bool multibit_avx2_supported() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

inline bool multibit_avx512_supported() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

// automatic -> the widest supported path; a forced one is checked against this CPU.
inline MultibitSimd resolve_multibit_simd(MultibitSimd s) {
  if (s == MultibitSimd::automatic)
    return multibit_avx512_supported() ? MultibitSimd::avx512
           : multibit_avx2_supported() ? MultibitSimd::avx2
                                       : MultibitSimd::scalar;
  LOWBIT_CHECK(s != MultibitSimd::avx2 || multibit_avx2_supported(),
               "multi-bit GEMM: the AVX2 path was requested but this CPU (or build) has no AVX2");
  LOWBIT_CHECK(s != MultibitSimd::avx512 || multibit_avx512_supported(),
               "multi-bit GEMM: the AVX-512 path was requested but this CPU (or build) has no AVX-512 BW + VNNI");
  return s;
}

}  // namespace lowbit::cpu
