// CPU bit-serial multi-bit GEMM (MINW-Net's XNOR operation for multi-bit operands, spec §5.4):
// C[M,N] (int32) = Σ_k value(a[m,k])·value(b[n,k]) exactly, from the bit planes of both operands
// (multibit_codes.h: pack_code_planes; value = offset + Σ_p coef_p·bit_p, kernels/multibit_math.h):
//   C = K·o_a·o_b + o_a·Σ_q d_q·popc(b_q) + o_b·Σ_p c_p·popc(a_p) + Σ_p Σ_q c_p·d_q·popc(a_p ∧ b_q).
// For unsigned codes this is Σ_i Σ_j 2^(i+j)·popc(a_i ∧ b_j); ±1 (binary) planes enter through the
// offset, ternary ones as mask and sign planes. The plane-pair popcounts come from the XNOR GEMM
// (kernels/cpu/xnor_gemm.h) run on the stacked planes, A as [M·P, kw] and B as [N·Q, kw]: its ±1 dot
// d = K − 2·popc(a ⊕ b) gives popc(a ∧ b) = (2·popc(a) + 2·popc(b) − K + d) / 4, which the combine
// step folds into row, column and constant terms (bitserial_* in kernels/multibit_math.h).
// Walk: blocks of B rows sized for L2 times blocks of A rows sized so the block of plane-pair dots
// stays ≤ 2 MiB; xnor_gemm fills the block, then a threaded pass combines it into C (per output
// one multiply-add per plane pair).
// Napkin math: P·Q binary GEMMs (2 bit-ops per bit-pair each) plus M·N·P·Q combine steps; e.g.
// unsigned 3-bit × pow2 3-bit (4 planes) is 12 binary GEMMs.
#pragma once

#include <cstdint>

#include "kernels/cpu/xnor_gemm.h"
#include "kernels/multibit_math.h"

namespace lowbit::cpu {

struct PlaneOperand {
  const uint32_t* planes;  // [rows, P, packed_words(K)]
  const int32_t* popc;     // [rows, P]
  CodeKind kind;
  int bits;
};

void bitserial_gemm(int64_t M, int64_t N, int64_t K, const PlaneOperand& a, const PlaneOperand& b, int32_t* C,
                    int64_t ldc, const XnorGemmConfig& config = {});

}  // namespace lowbit::cpu
