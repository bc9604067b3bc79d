// Float ±1 references for the binary kernels, accumulated in int64: sign(x) = -1 for x < 0 and
// +1 otherwise (0 maps to +1); the zero-padded convolution lets padded taps contribute 0; and the
// batch-norm + sign epilogue evaluated in float64.
#pragma once

#include <cstdint>
#include <vector>

namespace lowbit::ref {

inline int64_t pm1(float x) { return x < 0.f ? -1 : 1; }

// out[m,n] = Σ_k sign(a[m,k])·sign(b[n,k]); a [M,K], b [N,K] row-major.
std::vector<int64_t> xnor_gemm(const std::vector<float>& a, const std::vector<float>& b, int64_t M, int64_t N,
                               int64_t K);

// x [N,H,W,C], w [O,KH,KW,C] -> [N,OH,OW,O]: Σ over taps inside the image of sign(x)·sign(w).
std::vector<int64_t> xnor_conv2d(const std::vector<float>& x, const std::vector<float>& w, int64_t N, int64_t H,
                                 int64_t W, int64_t C, int64_t O, int64_t KH, int64_t KW, int64_t stride,
                                 int64_t pad);

// γ·(α·s − μ)/sqrt(var + eps) + β in float64.
double bn_of_sum(int64_t s, float alpha, float gamma, float beta, float mean, float var, float eps);

}  // namespace lowbit::ref
