// Naive references for the multi-bit kernels, written from the code formats' definitions (not from
// kernels/multibit_math.h): the integer value of a code (pow2 through its real level ±2^−e divided
// by the unit 2^−(q−1)), the int64 product Σ_k value(a)·value(b) and zero-padded convolution, and the ADDER sums: the float64
// sum with its Σ|term| (for error bounds) and the two f32 orders the kernels promise (sequential
// in k, the CUDA kernel; and the 8-lane order of kernels/cpu/multibit_adder.h). Plus the test data:
// seeded random codes drawn uniformly from a format's valid codes.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ops/multibit.h"

namespace lowbit::ref {

int64_t multibit_value(CodeFormat f, int code);

// Every valid code of a format, in increasing order.
std::vector<int> multibit_codes(CodeFormat f);

// n codes drawn uniformly from multibit_codes(f) (Philox, seeded).
std::vector<int8_t> random_codes(CodeFormat f, int64_t n, uint64_t seed);

// out[m,n] = Σ_k value(a[m,k])·value(b[n,k]); a [M,K], b [N,K] codes.
std::vector<int64_t> multibit_gemm(const std::vector<int8_t>& a, CodeFormat fa, const std::vector<int8_t>& b,
                                   CodeFormat fb, int64_t M, int64_t N, int64_t K);

// x [N,H,W,C], w [O,KH,KW,C] codes -> [N,OH,OW,O]: Σ over the taps inside the image of value·value.
std::vector<int64_t> multibit_conv2d(const std::vector<int8_t>& x, CodeFormat fx, const std::vector<int8_t>& w,
                                     CodeFormat fw, int64_t N, int64_t H, int64_t W, int64_t C, int64_t O, int64_t KH,
                                     int64_t KW, int64_t stride, int64_t pad);

struct AdderRef {
  std::vector<double> sum;      // Σ_k a·value in float64
  std::vector<double> abs_sum;  // Σ_k |a·value|
};
AdderRef adder_f64(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb, int64_t M, int64_t N,
                   int64_t K);
// f32: s = 0; s = s + a_k·value_k for k = 0..K−1.
std::vector<float> adder_sequential_f32(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb,
                                        int64_t M, int64_t N, int64_t K);
// f32: 8 lanes (lane k mod 8 for k < 8·⌊K/8⌋), folded lane 0..7 left to right, then the tail in order.
std::vector<float> adder_lanes8_f32(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb,
                                    int64_t M, int64_t N, int64_t K);

}  // namespace lowbit::ref
