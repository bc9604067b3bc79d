// Naive multi-bit references (see multibit_reference.h).
#include "tests/reference/multibit_reference.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "core/random.h"
#include "core/tensor.h"

namespace lowbit::ref {

int64_t multibit_value(CodeFormat f, int code) {
  switch (f.kind) {
    case CodeKind::unsigned_int:
    case CodeKind::signed_int:
    case CodeKind::binary:
    case CodeKind::ternary: return code;
    case CodeKind::pow2: {
      if (code == 0) return 0;
      const int q = (1 << (f.bits - 1)) - 1, e = q - std::abs(code);  // real level ±2^−e
      const double level = std::ldexp(code < 0 ? -1.0 : 1.0, -e), unit = std::ldexp(1.0, -(q - 1));
      return std::llround(level / unit);
    }
  }
  throw std::logic_error("multibit_value: unknown kind");
}

std::vector<int> multibit_codes(CodeFormat f) {
  switch (f.kind) {
    case CodeKind::unsigned_int: {
      std::vector<int> c;
      for (int v = 0; v < (1 << f.bits); ++v) c.push_back(v);
      return c;
    }
    case CodeKind::signed_int: {
      std::vector<int> c;
      for (int v = -(1 << (f.bits - 1)); v < (1 << (f.bits - 1)); ++v) c.push_back(v);
      return c;
    }
    case CodeKind::binary: return {-1, 1};
    case CodeKind::ternary: return {-1, 0, 1};
    case CodeKind::pow2: {
      const int q = (1 << (f.bits - 1)) - 1;
      std::vector<int> c;
      for (int v = -q; v <= q; ++v) c.push_back(v);
      return c;
    }
  }
  return {};
}

std::vector<int8_t> random_codes(CodeFormat f, int64_t n, uint64_t seed) {
  const std::vector<int> codes = multibit_codes(f);
  Generator gen(seed);
  std::vector<int32_t> idx =
      Tensor::randint(0, static_cast<int64_t>(codes.size()), {n}, Device::cpu(), &gen).to_host<int32_t>();
  std::vector<int8_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(codes[idx[i]]);
  return out;
}

std::vector<int64_t> multibit_gemm(const std::vector<int8_t>& a, CodeFormat fa, const std::vector<int8_t>& b,
                                   CodeFormat fb, int64_t M, int64_t N, int64_t K) {
  std::vector<int64_t> va(a.size()), vb(b.size()), out(static_cast<size_t>(M * N), 0);
  for (size_t i = 0; i < a.size(); ++i) va[i] = multibit_value(fa, a[i]);
  for (size_t i = 0; i < b.size(); ++i) vb[i] = multibit_value(fb, b[i]);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += va[m * K + k] * vb[n * K + k];
      out[m * N + n] = s;
    }
  return out;
}

std::vector<int64_t> multibit_conv2d(const std::vector<int8_t>& x, CodeFormat fx, const std::vector<int8_t>& w,
                                     CodeFormat fw, int64_t N, int64_t H, int64_t W, int64_t C, int64_t O, int64_t KH,
                                     int64_t KW, int64_t stride, int64_t pad) {
  const int64_t OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
  std::vector<int64_t> out(static_cast<size_t>(N * OH * OW * O), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox)
        for (int64_t o = 0; o < O; ++o) {
          int64_t s = 0;
          for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx) {
              const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              for (int64_t c = 0; c < C; ++c)
                s += multibit_value(fx, x[((n * H + iy) * W + ix) * C + c]) *
                     multibit_value(fw, w[((o * KH + ky) * KW + kx) * C + c]);
            }
          out[((n * OH + oy) * OW + ox) * O + o] = s;
        }
  return out;
}

AdderRef adder_f64(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb, int64_t M, int64_t N,
                   int64_t K) {
  AdderRef r{std::vector<double>(static_cast<size_t>(M * N)), std::vector<double>(static_cast<size_t>(M * N))};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0, abs_s = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double t = static_cast<double>(a[m * K + k]) * static_cast<double>(multibit_value(fb, b[n * K + k]));
        s += t;
        abs_s += std::fabs(t);
      }
      r.sum[m * N + n] = s;
      r.abs_sum[m * N + n] = abs_s;
    }
  return r;
}

namespace {
// The exact term a·value as f32 (a power-of-two scaling of a float: exact unless it overflows).
float term(float a, CodeFormat fb, int code) {
  return static_cast<float>(static_cast<double>(a) * static_cast<double>(multibit_value(fb, code)));
}
}  // namespace

std::vector<float> adder_sequential_f32(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb,
                                        int64_t M, int64_t N, int64_t K) {
  std::vector<float> out(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float s = 0.f;
      for (int64_t k = 0; k < K; ++k) s = s + term(a[m * K + k], fb, b[n * K + k]);
      out[m * N + n] = s;
    }
  return out;
}

std::vector<float> adder_lanes8_f32(const std::vector<float>& a, const std::vector<int8_t>& b, CodeFormat fb,
                                    int64_t M, int64_t N, int64_t K) {
  std::vector<float> out(static_cast<size_t>(M * N));
  const int64_t k8 = K / 8 * 8;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float lane[8] = {};
      for (int64_t k = 0; k < k8; ++k) lane[k % 8] = lane[k % 8] + term(a[m * K + k], fb, b[n * K + k]);
      float s = lane[0];
      for (int l = 1; l < 8; ++l) s = s + lane[l];
      for (int64_t k = k8; k < K; ++k) s = s + term(a[m * K + k], fb, b[n * K + k]);
      out[m * N + n] = s;
    }
  return out;
}

}  // namespace lowbit::ref
