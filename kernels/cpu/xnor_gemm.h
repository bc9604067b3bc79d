// CPU binary GEMM: C[M,N] (i32) = Σ_k sign(a[m,k])·sign(b[n,k]) from A [M, kw] and B [N, kw],
// both packed along K (b1 words, kernels/bit_math.h), as k_bits − 2·popc(a XOR b) per row pair.
// Padding bits are 0 in both operands, so they never count; k_bits is the logical K.
// Paths: portable scalar (std::popcount on 64-bit words), AVX2 (per-byte popcount tables of A
// looked up by vpshufb with nibble panels of B, xnor_gemm_avx2.h) and AVX-512 VPOPCNTDQ (a 64-bit
// popcount per lane, masked loads for the last step); `automatic` picks the fastest that
// __builtin_cpu_supports reports, the others can be forced. Scalar and AVX-512: register tiles of
// MR rows of A × NR rows of B run the whole K loop in registers; B is blocked so that a block stays
// in L2 while the rows of A stream past it; threads split M. AVX2: see its header.
// Napkin math (M = N = K = 4096 bits): 2·M·N·K = 137 G binary ops; A and B are 2 MiB each, C is
// 64 MiB of i32 (written once); the AVX2 inner loop is 2 vector ops per 128 bit pairs.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

enum class XnorPath : uint8_t { automatic, scalar, avx2, avx512 };

struct XnorGemmConfig {
  XnorPath path = XnorPath::automatic;
  int threads = 0;  // 0: the default (set_xnor_threads, initially every hardware thread)
};

bool xnor_avx2_supported();                 // this CPU (and build) can run the AVX2 path
bool xnor_avx512_supported();               // ... and the AVX-512 (F + VPOPCNTDQ) path
XnorPath resolve_xnor_path(XnorPath path);  // automatic -> the fastest supported; forced ones checked
void set_xnor_threads(int threads);       // default thread count; <= 0 restores the hardware count
int xnor_threads();

// lda/ldb: row strides in words (>= kw); ldc: row stride of C in elements.
void xnor_gemm(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda, const uint32_t* B,
               int64_t ldb, int32_t* C, int64_t ldc, const XnorGemmConfig& config = {});

}  // namespace lowbit::cpu
