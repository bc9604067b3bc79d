// Per-element math of the multi-bit (MINW-Net, spec §5.2/§5.4) kernels, shared by the CPU loops and
// the CUDA kernels: what an int8 code means, how it splits into {0,1} bit planes for the bit-serial
// popcount GEMM, and how a sign + exponent code is applied as a shift or as an exponent add.
//
// Code formats (one int8 per element; the real value is scale · value(code), the float scale per
// tensor or per output channel lives outside the kernels):
//   unsigned_int, bits M in 1..7 : code = value in [0, 2^M − 1] (DoReFa/EWGS/LSQ activations)
//   signed_int,   bits N in 2..8 : code = value in [−2^(N−1), 2^(N−1) − 1] (two's complement)
//   binary,       bits 1         : code = value in {−1, +1}
//   ternary,      bits 2         : code = value in {−1, 0, +1}
//   pow2,         bits n in 2..4 : q = 2^(n−1) − 1 magnitudes; code c in [−q, q] is sign + exponent:
//                                  value = sign(c)·2^(|c|−1), 0 for c = 0. The real levels
//                                  {0, ±2^−e}, e = q − |c|, are value · 2^−(q−1) (pow2_unit): for
//                                  n = 3 the AQE levels {0, ±¼, ±½, ±1} are codes 0, ±1, ±2, ±3.
// binary and ternary codes are pow2 codes with q = 1 (±1 means ±2^0), so the shift and adder
// paths read all three "sign + exponent" kinds with one decoder.
//
// Bit planes: value = offset + Σ_p coef_p · bit_p with bit_p in {0, 1}:
//   unsigned M bits : planes 0..M−1, coef 2^p, offset 0
//   signed N bits   : two's complement planes, coef 2^p, the top one −2^(N−1), offset 0
//   binary          : 1 plane, bit 1 = −1 (the b1 convention of kernels/bit_math.h), coef −2, offset 1
//   ternary         : plane 0 = nonzero mask (coef 1), plane 1 = sign where nonzero (coef −2)
//   pow2 n bits     : the value in q + 1 bit two's complement (n = 3: 4 planes)
// A row's zero padding (bit 0 in every plane) then means value `offset`, i.e. 0 for all but binary.
#pragma once

#include <cstdint>

#include "core/hd.h"
#include "kernels/bit_math.h"

namespace lowbit {

enum class CodeKind : uint8_t { unsigned_int = 0, signed_int = 1, binary = 2, ternary = 3, pow2 = 4 };

// q = 2^(bits−1) − 1 nonzero magnitudes per sign of an n-bit power-of-two format.
LOWBIT_HD int pow2_levels(int bits) { return (1 << (bits - 1)) - 1; }

// Whether (kind, bits) is a supported format (the ranges above).
LOWBIT_HD bool code_format_ok(CodeKind kind, int bits) {
  switch (kind) {
    case CodeKind::unsigned_int: return bits >= 1 && bits <= 7;
    case CodeKind::signed_int: return bits >= 2 && bits <= 8;
    case CodeKind::binary: return bits == 1;
    case CodeKind::ternary: return bits == 2;
    case CodeKind::pow2: return bits >= 2 && bits <= 4;
  }
  return false;
}

// Smallest and largest valid code.
LOWBIT_HD int code_min(CodeKind kind, int bits) {
  switch (kind) {
    case CodeKind::unsigned_int: return 0;
    case CodeKind::signed_int: return -(1 << (bits - 1));
    case CodeKind::pow2: return -pow2_levels(bits);
    default: return -1;  // binary, ternary
  }
}
LOWBIT_HD int code_max(CodeKind kind, int bits) {
  switch (kind) {
    case CodeKind::unsigned_int: return (1 << bits) - 1;
    case CodeKind::signed_int: return (1 << (bits - 1)) - 1;
    case CodeKind::pow2: return pow2_levels(bits);
    default: return 1;  // binary, ternary
  }
}
LOWBIT_HD bool code_valid(CodeKind kind, int bits, int c) {
  if (kind == CodeKind::binary) return c == 1 || c == -1;
  return c >= code_min(kind, bits) && c <= code_max(kind, bits);
}

// True for the kinds whose codes are sign + exponent (binary, ternary, pow2).
LOWBIT_HD bool is_sign_exponent(CodeKind kind) {
  return kind == CodeKind::binary || kind == CodeKind::ternary || kind == CodeKind::pow2;
}

// Integer value of a sign + exponent code: sign(c)·2^(|c|−1), 0 for c = 0.
LOWBIT_HD int32_t pow2_code_value(int c) {
  if (c == 0) return 0;
  const int32_t m = int32_t{1} << ((c < 0 ? -c : c) - 1);
  return c < 0 ? -m : m;
}

// Integer value of a (valid) code.
LOWBIT_HD int32_t code_value(CodeKind kind, int c) { return kind == CodeKind::pow2 ? pow2_code_value(c) : c; }

// Largest |value| of a format (for the int32 range checks).
LOWBIT_HD int32_t value_max_abs(CodeKind kind, int bits) {
  switch (kind) {
    case CodeKind::unsigned_int: return (1 << bits) - 1;
    case CodeKind::signed_int: return 1 << (bits - 1);
    case CodeKind::pow2: return 1 << (pow2_levels(bits) - 1);
    default: return 1;
  }
}

// ---- bit planes

LOWBIT_HD int plane_count(CodeKind kind, int bits) {
  switch (kind) {
    case CodeKind::unsigned_int:
    case CodeKind::signed_int: return bits;
    case CodeKind::binary: return 1;
    case CodeKind::ternary: return 2;
    case CodeKind::pow2: return pow2_levels(bits) + 1;
  }
  return 0;
}

LOWBIT_HD int32_t plane_offset(CodeKind kind) { return kind == CodeKind::binary ? 1 : 0; }

LOWBIT_HD int32_t plane_coef(CodeKind kind, int bits, int p) {
  switch (kind) {
    case CodeKind::unsigned_int: return int32_t{1} << p;
    case CodeKind::binary: return -2;
    case CodeKind::ternary: return p == 0 ? 1 : -2;
    default: {  // two's complement (signed_int, pow2)
      const int top = plane_count(kind, bits) - 1;
      return p == top ? -(int32_t{1} << p) : int32_t{1} << p;
    }
  }
}

LOWBIT_HD uint32_t plane_bit(CodeKind kind, int c, int p) {
  switch (kind) {
    case CodeKind::binary: return c < 0 ? 1u : 0u;
    case CodeKind::ternary: return p == 0 ? (c != 0 ? 1u : 0u) : (c < 0 ? 1u : 0u);
    default: return static_cast<uint32_t>(code_value(kind, c) >> p) & 1u;  // arithmetic shift: two's complement
  }
}

// Most planes of any format (s8 and pow2(4): 8).
inline constexpr int kMaxPlanes = 8;

// The packing of both plane packers (CPU and CUDA): word w of each of the P planes of one row of k
// codes, words[p] bit b = plane_bit(row[32·w + b], p); bits at positions >= k stay 0 (the b1
// padding), so a word wholly past the row is 0.
LOWBIT_HD void plane_words(CodeKind kind, int P, const int8_t* row, int64_t k, int64_t w, uint32_t* words) {
  for (int p = 0; p < P; ++p) words[p] = 0u;
  const int64_t i0 = w * kBitsPerWord, left = k - i0;
  const int n = left <= 0 ? 0 : left >= kBitsPerWord ? static_cast<int>(kBitsPerWord) : static_cast<int>(left);
  for (int b = 0; b < n; ++b) {
    const int c = row[i0 + b];
    for (int p = 0; p < P; ++p) words[p] |= plane_bit(kind, c, p) << b;
  }
}

// Σ_p coef_p·popc_p of one row from its P plane popcounts (popc[p·stride]): the row's sum of
// values minus k·offset.
LOWBIT_HD int64_t plane_value_sum(CodeKind kind, int bits, const int32_t* popc, int64_t stride) {
  int64_t s = 0;
  for (int p = 0; p < plane_count(kind, bits); ++p) s += int64_t{plane_coef(kind, bits, p)} * popc[p * stride];
  return s;
}

// The bit-serial dot from XNOR dots of plane pairs. For {0,1} planes a_p, b_q over k positions the
// XNOR kernel gives D_pq = k − 2·popc(a_p ⊕ b_q), and popc(a_p ⊕ b_q) = X_p + Y_q − 2·popc(a_p ∧ b_q)
// (X_p, Y_q the row popcounts), so popc(a_p ∧ b_q) = (2·X_p + 2·Y_q − k + D_pq)/4. Summed into
// dot = k·o_a·o_b + o_a·Σ_q d_q·Y_q + o_b·Σ_p c_p·X_p + Σ_pq c_p·d_q·popc(a_p ∧ b_q) (offsets o, plane
// coefficients c, d) this is
//   4·dot = Σ_pq c_p·d_q·D_pq + row + col + base,  row = sa·(4·o_b + 2·Σd) with sa = Σ_p c_p·X_p,
//   col = sb·(4·o_a + 2·Σc) with sb = Σ_q d_q·Y_q,  base = k·(4·o_a·o_b − Σc·Σd),
// an exact multiple of 4.
LOWBIT_HD int64_t bitserial_side_term(int64_t plane_sum, int64_t other_offset, int64_t other_coef_sum) {
  return plane_sum * (4 * other_offset + 2 * other_coef_sum);
}
LOWBIT_HD int64_t bitserial_base_term(int64_t k, int64_t offset_a, int64_t offset_b, int64_t coef_sum_a,
                                      int64_t coef_sum_b) {
  return k * (4 * offset_a * offset_b - coef_sum_a * coef_sum_b);
}
LOWBIT_HD int32_t bitserial_finish(int64_t four_dot) { return static_cast<int32_t>(four_dot >> 2); }  // exact

// The same dot from AND popcounts directly (the CUDA form: one popc(a_p ∧ b_q) GEMM per plane pair,
// accumulated into the output with weight c_p·d_q):
//   dot = init + Σ_pq c_p·d_q·popc(a_p ∧ b_q),  init = row_init(sa) + col_init(sb),
//   row_init = o_b·sa,  col_init = o_a·sb + k·o_a·o_b   (sa, sb: plane_value_sum of the rows).
// Carried in uint32 (wrapping arithmetic): every partial sum is exact mod 2^32, so the final value
// is exact whenever the dot fits int32 (the ops' range check), however large a partial sum gets.
// The CUDA-core XNOR kernel counts popc(a ⊕ b) instead: popc(a ∧ b) = (popc(a) + popc(b) − popc(a ⊕ b))/2.
LOWBIT_HD uint32_t bitserial_and_row_init(int64_t plane_sum_a, int32_t offset_b) {
  return static_cast<uint32_t>(plane_sum_a * offset_b);
}
LOWBIT_HD uint32_t bitserial_and_col_init(int64_t plane_sum_b, int64_t k, int32_t offset_a, int32_t offset_b) {
  return static_cast<uint32_t>(plane_sum_b * offset_a + k * offset_a * offset_b);
}
LOWBIT_HD uint32_t bitserial_and_step(uint32_t acc, int32_t weight, int32_t popc_and) {
  return acc + static_cast<uint32_t>(weight) * static_cast<uint32_t>(popc_and);
}
LOWBIT_HD int32_t bitserial_and_finish(uint32_t acc) { return static_cast<int32_t>(acc); }
LOWBIT_HD int32_t popc_and_from_xor(int32_t popc_a, int32_t popc_b, int32_t popc_xor) {
  return (popc_a + popc_b - popc_xor) / 2;
}

// ---- sign + exponent codes applied without a multiply

// SHIFT: value(c)·a as a shift of the integer a by |c| − 1 with the sign applied after (exact in
// int32 while |a|·2^(|c|−1) fits); 0 for c = 0.
LOWBIT_HD int32_t shift_term(int32_t a, int c) {
  if (c == 0) return 0;
  const int32_t s = static_cast<int32_t>(static_cast<uint32_t>(a) << ((c < 0 ? -c : c) - 1));
  return c < 0 ? -s : s;
}

// ADDER: value(c) as a float (±2^(|c|−1) exactly, 0 for c = 0). a·pow2_code_float(c) is exact (a
// power-of-two scaling: ldexp(±a, |c|−1)) for finite results, so an accumulation
// acc + a·w rounds once per term, like the sign-flip / exponent-add followed by an add.
LOWBIT_HD float pow2_code_float(int c) { return static_cast<float>(pow2_code_value(c)); }

// One ADDER accumulation step: acc + (a·w) with the exact product, rounded once (FMA or mul + add
// give the same bits because a·w is exact).
LOWBIT_HD float adder_step(float acc, float a, float w) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, w, acc);
#else
  return acc + a * w;
#endif
}

// ---- convolution as a GEMM over im2col'd codes

// NHWC codes x [N,H,W,C], OHWI weight codes [O,KH,KW,C], output [N,OH,OW,O]; same stride and
// zero padding on both axes.
struct MultibitConvGeom {
  int64_t N, H, W, C, O, KH, KW, OH, OW, stride, pad;
};

// Flat index into x of column element (row, col) of the im2col matrix [N·OH·OW, KH·KW·C]
// (col = (ky·KW + kx)·C + c), or −1 for a tap outside the image (its code is 0: value 0).
LOWBIT_HD int64_t multibit_im2col_source(const MultibitConvGeom& g, int64_t row, int64_t col) {
  const int64_t c = col % g.C, tap = col / g.C, kx = tap % g.KW, ky = tap / g.KW;
  const int64_t ox = row % g.OW, oy = (row / g.OW) % g.OH, n = row / (g.OW * g.OH);
  const int64_t iy = oy * g.stride - g.pad + ky, ix = ox * g.stride - g.pad + kx;
  if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) return -1;
  return ((n * g.H + iy) * g.W + ix) * g.C + c;
}

}  // namespace lowbit
