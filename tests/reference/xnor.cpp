// Float ±1 references for the binary kernels (see xnor.h): plain loops, int64 sums.
#include "tests/reference/xnor.h"

#include <cmath>

namespace lowbit::ref {

std::vector<int64_t> xnor_gemm(const std::vector<float>& a, const std::vector<float>& b, int64_t M, int64_t N,
                               int64_t K) {
  std::vector<int64_t> out(static_cast<size_t>(M * N), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += pm1(a[m * K + k]) * pm1(b[n * K + k]);
      out[m * N + n] = acc;
    }
  return out;
}

std::vector<int64_t> xnor_conv2d(const std::vector<float>& x, const std::vector<float>& w, int64_t N, int64_t H,
                                 int64_t W, int64_t C, int64_t O, int64_t KH, int64_t KW, int64_t stride,
                                 int64_t pad) {
  int64_t OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
  std::vector<int64_t> out(static_cast<size_t>(N * OH * OW * O), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox)
        for (int64_t o = 0; o < O; ++o) {
          int64_t acc = 0;
          for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx) {
              int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // zero padding: contributes 0
              for (int64_t c = 0; c < C; ++c)
                acc += pm1(x[((n * H + iy) * W + ix) * C + c]) * pm1(w[((o * KH + ky) * KW + kx) * C + c]);
            }
          out[((n * OH + oy) * OW + ox) * O + o] = acc;
        }
  return out;
}

double bn_of_sum(int64_t s, float alpha, float gamma, float beta, float mean, float var, float eps) {
  double sigma = std::sqrt(static_cast<double>(var) + static_cast<double>(eps));
  return static_cast<double>(gamma) * (static_cast<double>(alpha) * static_cast<double>(s) - mean) / sigma + beta;
}

}  // namespace lowbit::ref
