// CUDA binary GEMM: C[M,N] = Σ_k sign(a[m,k])·sign(b[n,k]) from A [M, kw] and B [N, kw] packed
// along K (b1 words, kernels/bit_math.h; row strides lda/ldb in words), with the binary layer's
// epilogue fused into the kernel's store phase: i32 sums, f32 a[n]·s + b[n], or threshold + sign +
// pack into b1 rows (kernels/xnor_epilogue_math.h, the same per-element math as the CPU loops).
// Padding bits are 0 in both operands; k_bits is the logical K.
//
// Paths (XnorCudaPath):
//   popc  — CUDA cores: XOR + __popc on 128-bit shared-memory fragments, 8×8 outputs per thread,
//           s = K − 2·Σ popc(a ⊕ b) (kernels/cuda/xnor_popc.cuh). Any device, any shape.
//   mma   — binary tensor cores, mma.sync m16n8k256 .and.popc (sm_80+), s = K − 2·popc(a) −
//           2·popc(b) + 4·Σ popc(a ∧ b) with the row popcounts from a small pre-pass
//           (kernels/cuda/xnor_mma.cuh). .xor.popc is emulated on Hopper, hence AND.
//   wgmma — warpgroup binary tensor cores, wgmma m64nNk256 .and.popc (sm_90a builds on sm_90
//           devices; kernels/cuda/xnor_wgmma.cuh).
//   automatic — the fastest the device runs, popc for problems too small to fill the GPU.
// K is zero-padded to the kernels' K step inside the loaders (zero bits add nothing to either
// popcount form); M and N edges are guarded. Everything runs on cuda::current_stream(); every
// pointer is device memory; nothing synchronizes the host.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

enum class XnorCudaPath : uint8_t { automatic, popc, mma, wgmma };

const char* xnor_cuda_path_name(XnorCudaPath path);
bool xnor_mma_supported();    // the current device has binary mma.sync (compute capability >= 8.0)
bool xnor_wgmma_supported();  // the current device is sm_90 and this build carries sm_90a code
// automatic -> a concrete path for an M×N×k_bits problem; a forced path the device lacks throws.
XnorCudaPath resolve_xnor_cuda_path(XnorCudaPath path, int64_t M, int64_t N, int64_t k_bits);

// Where and how the sums go (all device pointers).
struct XnorEpilogueArgs {
  enum class Kind : uint8_t { i32, affine, threshold } kind = Kind::i32;
  void* out = nullptr;  // i32 / f32: [M, ldo] elements; threshold: [M, ldo] words (bits along N)
  int64_t ldo = 0;
  const float* scale = nullptr;        // affine: [N]
  const float* bias = nullptr;         // affine: [N] or null (0)
  const int32_t* threshold = nullptr;  // threshold: [N] t
  const uint8_t* mode = nullptr;       // threshold: [N] ThresholdMode values
};

void xnor_gemm(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda, const uint32_t* B,
               int64_t ldb, const XnorEpilogueArgs& ep, XnorCudaPath path = XnorCudaPath::automatic);

// out[r] = Σ popc(x[r·ld + 0 .. kw)) for r < rows (the AND form's row counts; also used by the
// convolution's pre-pass).
void xnor_row_popcounts(const uint32_t* x, int64_t ld, int64_t rows, int64_t kw, int32_t* out);

}  // namespace lowbit::cuda
