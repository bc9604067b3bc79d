// Multi-bit ops for MINW-Net-style inference (spec §5.4, Table I), inference only (no autograd).
// Operands are int8 code tensors with a CodeFormat (kernels/multibit_math.h: unsigned M-bit
// activation codes, signed N-bit, binary ±1, ternary {−1, 0, 1}, power-of-two sign + exponent);
// the real value of a code is scale · value(code), with the float scale kept outside the integer
// products (per tensor, or per row = per output channel for weights).
//   multibit_matmul       : exact integer Σ_k value(a[m,k])·value(b[n,k]) in int32, by one of
//     bitserial — bit planes and popcount GEMMs (Table I's XNOR; CPU: the stacked planes in one
//                 XNOR GEMM per block; CUDA: one binary GEMM on the XNOR kernels per plane pair,
//                 adding into the int32 output: kernels/cuda/multibit_bitserial.cu),
//     shift     — b's sign + exponent codes shift the integer a (Table I's SHIFT; CPU, CUDA),
//     int8      — both as int8 values into an int32-accumulating GEMM (CPU; CUDA int8 tensor
//                 cores through cuBLAS, rows zero-padded to multiples of 16),
//     automatic — int8 on CUDA (the fastest exact path there: spec performance.md); on the CPU
//                 bit-serial when the operands have at most kBitserialMaxPlanePairs plane pairs,
//                 else int8.
//     Every path gives the same int32 result; refused when K·max|a|·max|b| could pass 2^31 − 1.
//   multibit_adder_matmul : one operand unquantized (Table I's XNOR/SHIFT ADDER): f32 activations
//     on the CPU, fp16 on CUDA, times sign + exponent weight codes, summed in f32 (CPU: the fixed
//     8-lane order of kernels/cpu/multibit_adder.h; CUDA: increasing k per output).
//   multibit_conv2d       : the same integer products as an NHWC × OHWI convolution (zero padding),
//     through an im2col of the codes and multibit_matmul.
// CPU code tensors are checked element by element (a bad code is an error naming it); CUDA code
// tensors are trusted (checking them would synchronize): make them with multibit_encode.
#pragma once

#include <cstdint>
#include <string>

#include "core/export.h"
#include "core/tensor.h"
#include "kernels/multibit_math.h"

namespace lowbit {

struct CodeFormat {
  CodeKind kind = CodeKind::unsigned_int;
  int bits = 1;
  static CodeFormat unsigned_bits(int bits) { return {CodeKind::unsigned_int, bits}; }
  static CodeFormat signed_bits(int bits) { return {CodeKind::signed_int, bits}; }
  static CodeFormat binary() { return {CodeKind::binary, 1}; }
  static CodeFormat ternary() { return {CodeKind::ternary, 2}; }
  static CodeFormat pow2(int bits) { return {CodeKind::pow2, bits}; }
};

// "u3", "s4", "binary", "ternary", "pow2(3)".
LOWBIT_API std::string code_format_str(CodeFormat f);
// Refuses formats outside the ranges of kernels/multibit_math.h, naming `what`.
LOWBIT_API void check_code_format(CodeFormat f, const char* what);
// The real value of integer value 1 in a pow2 format whose largest level is 1: 2^−(q−1)
// (¼ for 3 bits, so the AQE levels {0, ±¼, ±½, ±1} have scale pow2_unit(3)).
LOWBIT_API float pow2_unit(int bits);

enum class MultibitPath : uint8_t { automatic, bitserial, shift, int8 };
LOWBIT_API const char* multibit_path_name(MultibitPath path);

// Most plane pairs (plane_count(a)·plane_count(b)) for which `automatic` picks the CPU bit-serial
// path: its time grows with the pairs (one XNOR GEMM each); on the 2-core AVX-512 machine it beat
// the int8 GEMM 2.6× at 1 pair and 1.8× at 2, lost 0.8× at 4 (bench/bench_multibit.cpp, n = 2048).
inline constexpr int kBitserialMaxPlanePairs = 2;

struct MultibitOptions {
  MultibitPath path = MultibitPath::automatic;
  int threads = 0;  // CPU threads; 0: the default (every hardware thread)
};

// The path `automatic` runs for these formats on this device.
LOWBIT_API MultibitPath multibit_auto_path(CodeFormat a, CodeFormat b, Device device);

// x [R, ...] f32 (CPU) -> i8 codes with x = scale·value(code) exactly; scale: f32 CPU tensor with 1
// element or R (per row = per output channel), every entry > 0. Refuses values that are no level.
LOWBIT_API Tensor multibit_encode(const Tensor& x, CodeFormat f, const Tensor& scale);
// i8 codes [R, ...] (CPU) -> f32 scale·value(code).
LOWBIT_API Tensor multibit_decode(const Tensor& codes, CodeFormat f, const Tensor& scale);

// a [M,K] i8 codes (format fa), b [N,K] i8 codes (format fb) -> [M,N] i32.
LOWBIT_API Tensor multibit_matmul(const Tensor& a, CodeFormat fa, const Tensor& b, CodeFormat fb,
                                  const MultibitOptions& options = {});

// x [N,H,W,C] i8 codes (format fx), weight [O,KH,KW,C] i8 codes (format fw) -> [N,OH,OW,O] i32:
// Σ over the taps inside the image of value(x)·value(w) (taps in the zero padding add 0), same
// stride and padding on both axes. Method: im2col of the codes ([N·OH·OW, KH·KW·C], code 0 in the
// padding; binary x is read as ternary there, which has the 0) and multibit_matmul on the path of
// `options` (automatic: chosen for the im2col'd formats).
LOWBIT_API Tensor multibit_conv2d(const Tensor& x, CodeFormat fx, const Tensor& weight, CodeFormat fw, int64_t stride,
                                  int64_t pad, const MultibitOptions& options = {});

// a [M,K] (f32 on the CPU, f16 on CUDA), b [N,K] i8 sign + exponent codes (binary, ternary, pow2)
// -> [M,N] f32 Σ_k a[m,k]·value(b[n,k]).
LOWBIT_API Tensor multibit_adder_matmul(const Tensor& a, const Tensor& b, CodeFormat fb,
                                        const MultibitOptions& options = {});

}  // namespace lowbit
