// CUDA multi-bit GEMMs (the twins of kernels/cpu/multibit_{int8,shift,adder}.h; code formats in
// kernels/multibit_math.h) and their code loops (multibit_codes.cu). Row-major operands with the
// reduction axis K innermost: A [M, lda], B [N, ldb], C [M, ldc]; every pointer is device memory;
// launches go to cuda::current_stream() and never synchronize the host.
//   int8_gemm  : C (int32) = A·Bᵀ on int8 tensor cores through cublasGemmEx (CUDA_R_8I inputs,
//                CUBLAS_COMPUTE_32I, CUDA_R_32I output; the "TN" layout cuBLAS wants for int8).
//                cuBLAS asks for alpha/beta of 1/0, 32-bit aligned A and B and lda, ldb multiples
//                of 4: this function requires K, lda, ldb multiples of 16 and 16-byte aligned A, B
//                (codes_to_int8 pads rows with zeros to get there). Exact int32 accumulation.
//   shift_gemm : C (int32) = Σ_k shift_term(A[m,k], B[n,k]) on CUDA cores: int8 activation values
//                shifted by the sign + exponent codes of B (binary, ternary, pow2). Exact.
//   adder_gemm : C (f32) = Σ_k A[m,k]·value(B[n,k]) with fp16 activations: each output sums its
//                exact terms a·(±2^t) in increasing k in f32 (one rounding per term), so the result
//                equals the sequential f32 loop bit for bit.
//   bitserial_gemm : C (int32) = Σ_k value(A[m,k])·value(B[n,k]) from the codes' bit planes
//                (multibit_bitserial.cu): both operands packed into b1 planes (pack_code_planes),
//                then (bitserial_gemm_planes) per plane pair (p, q) one binary GEMM on the XNOR
//                kernels (xnor_gemm.h's popc / mma / wgmma paths) whose store phase adds
//                c_p·d_q·popc(a_p ∧ b_q) into C (the first pair writes the row/column/constant
//                terms instead of reading C): P·Q launches, C read and written once per pair.
//                Exact (kernels/multibit_math.h, bitserial_and_*).
// Napkin math (shift/adder, 128×128 block tile, 8×8 outputs per thread, K tiles of 16): per MAC
// SHF + LOP3 + IADD3 (shift) or one FFMA (adder); on an H100 the shift kernel is bounded near
// 1/3 of the CUDA cores' int32 issue rate, far below the int8 tensor cores (spec performance.md,
// P9: the int8 path ≥ 50× the shift kernel). Measured on an H100 at 8192³ (bench_cuda_multibit):
// int8 1.43 Pop/s, shift 7.6 Top/s (int8 = 188× shift), adder 15.3 Top/s, cuBLAS fp16 0.9 Pflop/s.
#pragma once

#include <cstdint>

#include "kernels/cuda/xnor_gemm.h"
#include "kernels/multibit_math.h"

namespace lowbit::cuda {

// dst[r, 0:k] = value(codes[r, 0:k]) as int8 and dst[r, k:ld_dst] = 0 (codes rows contiguous).
void codes_to_int8(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int8_t* dst, int64_t ld_dst);
// col [N·OH·OW, KH·KW·C] = the im2col of NHWC codes x, 0 for taps outside the image.
void im2col_codes(const int8_t* x, const MultibitConvGeom& g, int8_t* col);

void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
               int32_t* C, int64_t ldc);

void shift_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                int32_t* C, int64_t ldc);

// Bit planes of rows of codes [rows, ld] (k used): plane p of row r is the ldw words at
// planes[(p·rows + r)·ldw] (ldw >= packed_words(k); words from packed_words(k) on are 0), built
// with plane_words (kernels/multibit_math.h); popc[p·rows + r] = popcount of that plane row.
// Plane-major, so each plane is one [rows, ldw] b1 matrix for the XNOR kernels.
void pack_code_planes(const int8_t* codes, int64_t rows, int64_t k, int64_t ld, CodeKind kind, int bits,
                      uint32_t* planes, int64_t ldw, int32_t* popc);

// One operand's planes as pack_code_planes lays them out ([P, rows, ldw] words, [P, rows]
// popcounts) for the given format; ldw a multiple of 4 and planes 16-byte aligned (128-bit loads).
struct DevicePlanes {
  const uint32_t* planes;
  int64_t ldw;
  const int32_t* popc;
  CodeKind kind;
  int bits;
};

// The GEMM on packed planes (A: M rows, B: N rows, K valid bits each); path: the XNOR kernel of
// every plane pair (automatic: resolve_xnor_cuda_path for M×N×K).
void bitserial_gemm_planes(int64_t M, int64_t N, int64_t K, const DevicePlanes& a, const DevicePlanes& b, int32_t* C,
                           int64_t ldc, XnorCudaPath path = XnorCudaPath::automatic);

// The same from codes (formats ka/a_bits, kb/b_bits): packs both operands into scratch planes
// (ldw = packed_words(K) rounded up to 4), then bitserial_gemm_planes.
void bitserial_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A_codes, int64_t lda, CodeKind ka, int a_bits,
                    const int8_t* B_codes, int64_t ldb, CodeKind kb, int b_bits, int32_t* C, int64_t ldc,
                    XnorCudaPath path = XnorCudaPath::automatic);

// A: IEEE half values (raw uint16 storage).
void adder_gemm(int64_t M, int64_t N, int64_t K, const uint16_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                float* C, int64_t ldc);

}  // namespace lowbit::cuda
