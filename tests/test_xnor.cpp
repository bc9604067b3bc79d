// Binary kernels on the CPU: sign packing round trips, the XNOR/popcount GEMM and convolution
// (exact equality with the float ±1 reference, every popcount path this CPU runs, one and
// several threads),
// and the epilogues (threshold folding incl. γ < 0, γ = 0 and ties; scale; float output).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/ops/binary.h"
#include "core/random.h"
#include "core/tensor.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/bitpack.h"
#include "kernels/cpu/xnor_epilogue.h"
#include "kernels/cpu/xnor_gemm.h"
#include "tests/reference/xnor.h"
#include "tests/tolerances.h"

namespace lowbit {
namespace {

// Uniform [-1, 1) with every 7th value an exact 0 (which must map to +1).
std::vector<float> signs_input(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v = Tensor::rand({n}, Device::cpu(), &gen).to_vector();
  for (int64_t i = 0; i < n; ++i) v[i] = (i % 7 == 3) ? 0.f : 2.f * v[i] - 1.f;
  return v;
}

Tensor packed(const std::vector<float>& v, const Shape& shape) { return Tensor::from_vector(v, shape).to(DType::b1); }

// The popcount paths this CPU can run, as op options.
std::vector<XnorKernel> kernels() {
  std::vector<XnorKernel> k{XnorKernel::scalar};
  if (cpu::xnor_avx2_supported()) k.push_back(XnorKernel::avx2);
  if (cpu::xnor_avx512_supported()) k.push_back(XnorKernel::avx512);
  return k;
}
const char* kernel_name(XnorKernel k) {
  return k == XnorKernel::avx512 ? "avx512" : k == XnorKernel::avx2 ? "avx2" : "scalar";
}

void expect_equal(const std::vector<int64_t>& want, const Tensor& got, const std::string& what) {
  std::vector<int32_t> g = got.to_host<int32_t>();
  ASSERT_EQ(g.size(), want.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (g[i] != want[i] && bad++ < 3) ADD_FAILURE() << what << ": element " << i << " got " << g[i] << " want " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

const int64_t kKs[] = {1, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000};

// ---------------------------------------------------------------- packing

TEST(XnorPack, RoundTripAndZeroPadding) {
  for (int64_t K : kKs) {
    std::vector<float> v = signs_input(3 * K, 10 + K);
    v[0] = -0.f;  // -0 is not < 0: +1
    Tensor b = packed(v, {3, K});
    std::vector<uint32_t> words = b.to_host<uint32_t>();
    int64_t kw = packed_words(K);
    ASSERT_EQ(static_cast<int64_t>(words.size()), 3 * kw);
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t i = K; i < kw * 32; ++i)
        EXPECT_EQ((words[r * kw + i / 32] >> (i % 32)) & 1u, 0u) << "padding bit " << i << " of row " << r << ", K " << K;
    std::vector<float> back = b.to(DType::f32).to_vector();
    for (int64_t i = 0; i < 3 * K; ++i) ASSERT_EQ(back[i], static_cast<float>(ref::pm1(v[i]))) << "K " << K << " i " << i;
    // And packing the unpacked ±1 values gives the same words.
    EXPECT_EQ(Tensor::from_vector(back, {3, K}).to(DType::b1).to_host<uint32_t>(), words);
  }
}

TEST(XnorPack, StridedRowsAndNhwcLayout) {
  // Rows with a stride larger than their length (a channel slice of NHWC pixels).
  int64_t rows = 5, C = 40, ld = 47;
  std::vector<float> v = signs_input(rows * ld, 3);
  std::vector<uint32_t> words(static_cast<size_t>(rows * packed_words(C)), 0xffffffffu);
  cpu::pack_sign_rows(v.data(), ld, words.data(), rows, C);
  std::vector<float> back(static_cast<size_t>(rows * ld), 7.f);
  cpu::unpack_sign_rows(words.data(), back.data(), ld, rows, C);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < ld; ++c)
      EXPECT_EQ(back[r * ld + c], c < C ? static_cast<float>(ref::pm1(v[r * ld + c])) : 7.f);
  // An NHWC image packs each pixel's channels into its own words.
  std::vector<float> img = signs_input(2 * 3 * 3 * 33, 4);
  Tensor x = packed(img, {2, 3, 3, 33});
  EXPECT_EQ(static_cast<int64_t>(x.to_host<uint32_t>().size()), 2 * 3 * 3 * 2);
}

TEST(XnorMath, AndIdentityEqualsXorForm) {
  Generator gen(5);
  std::vector<int32_t> r = Tensor::randint(0, 1 << 30, {2000}, Device::cpu(), &gen).to_host<int32_t>();
  for (size_t i = 0; i + 1 < r.size(); i += 2) {
    uint32_t a = static_cast<uint32_t>(r[i]) * 3u, b = static_cast<uint32_t>(r[i + 1]) * 5u;
    EXPECT_EQ(xnor_dot(32, std::popcount(a ^ b)),
              xnor_dot_and(32, std::popcount(a), std::popcount(b), std::popcount(a & b)));
  }
}

// ---------------------------------------------------------------- GEMM

TEST(XnorGemm, ExactForEveryKAndPath) {
  const int64_t M = 7, N = 11;  // odd: tiles plus both edges
  for (int64_t K : kKs) {
    std::vector<float> a = signs_input(M * K, 100 + K), b = signs_input(N * K, 200 + K);
    std::vector<int64_t> want = ref::xnor_gemm(a, b, M, N, K);
    Tensor pa = packed(a, {M, K}), pb = packed(b, {N, K});
    for (XnorKernel k : kernels())
      expect_equal(want, xnor_matmul(pa, pb, {k, 1}), std::string(kernel_name(k)) + " K=" + std::to_string(K));
  }
}

TEST(XnorGemm, MultiThreadedMatchesReference) {
  // Enough work for the kernel to use several threads. The AVX2 path splits B's 32-row panels
  // (N = 70: three panels, the last partial) or, with fewer panels than threads (N = 20), the rows.
  for (auto [M, N] : {std::pair<int64_t, int64_t>{301, 70}, {1000, 20}}) {
    const int64_t K = 1000;
    std::vector<float> a = signs_input(M * K, 1), b = signs_input(N * K, 2);
    std::vector<int64_t> want = ref::xnor_gemm(a, b, M, N, K);
    Tensor pa = packed(a, {M, K}), pb = packed(b, {N, K});
    for (XnorKernel k : kernels())
      for (int threads : {1, 2, 3})
        expect_equal(want, xnor_matmul(pa, pb, {k, threads}),
                     std::string(kernel_name(k)) + " N=" + std::to_string(N) + " threads=" + std::to_string(threads));
  }
  const int64_t M = 301, N = 70, K = 1000;
  std::vector<float> a = signs_input(M * K, 1), b = signs_input(N * K, 2);
  std::vector<int64_t> want = ref::xnor_gemm(a, b, M, N, K);
  Tensor pa = packed(a, {M, K}), pb = packed(b, {N, K});
  cpu::set_xnor_threads(2);
  EXPECT_EQ(cpu::xnor_threads(), 2);
  expect_equal(want, xnor_matmul(pa, pb), "default path and threads");
  cpu::set_xnor_threads(0);
  EXPECT_GE(cpu::xnor_threads(), 1);
}

TEST(XnorGemm, ManyPanelGroups) {
  // The AVX2 path packs B in 32-row panels and hands them to threads in groups (of up to ~256 KiB,
  // at least two groups per thread): N = 330 is 11 panels, the last partial, in groups of 5 on one
  // thread and of 2 on two (the last group partial), and split by rows on three (fewer than 4
  // panels per thread); M = 61 is enough work for three threads.
  const int64_t M = 61, N = 330;
  for (int64_t K : {4000, 4096}) {
    std::vector<float> a = signs_input(M * K, 31 + K), b = signs_input(N * K, 32 + K);
    std::vector<int64_t> want = ref::xnor_gemm(a, b, M, N, K);
    Tensor pa = packed(a, {M, K}), pb = packed(b, {N, K});
    for (XnorKernel k : kernels())
      for (int threads : {1, 2, 3})
        expect_equal(want, xnor_matmul(pa, pb, {k, threads}),
                     std::string(kernel_name(k)) + " K=" + std::to_string(K) + " threads=" + std::to_string(threads));
  }
}

TEST(XnorGemm, LongKPastTheSixteenBitCounters) {
  // The AVX2 path widens its byte counters into 16-bit sums and those into 32-bit totals every
  // 129024 bits of K: here K is past that, and half the rows of B are the negated rows of A, so
  // their popcounts (≈ K) overflow 16 bits unless that second widening works.
  const int64_t M = 7, N = 35, K = 130031;
  std::vector<float> a = signs_input(M * K, 11), b = signs_input(N * K, 12);
  for (int64_t n = 0; n < N; n += 2)
    for (int64_t j = 0; j < K; ++j) b[n * K + j] = a[(n % M) * K + j] < 0.f ? 1.f : -1.f;
  std::vector<int64_t> want = ref::xnor_gemm(a, b, M, N, K);
  EXPECT_EQ(want[0], -K);  // row 0 of B is row 0 of A negated
  Tensor pa = packed(a, {M, K}), pb = packed(b, {N, K});
  for (XnorKernel k : kernels()) expect_equal(want, xnor_matmul(pa, pb, {k, 1}), kernel_name(k));
}

TEST(XnorGemm, AllEqualSignsGiveK) {
  Tensor a = Tensor::full({2, 257}, -1.f).to(DType::b1), b = Tensor::full({3, 257}, -2.f).to(DType::b1);
  Tensor z = Tensor::zeros({3, 257}).to(DType::b1);  // 0 -> +1
  for (XnorKernel k : kernels()) {
    for (int32_t v : xnor_matmul(a, b, {k}).to_host<int32_t>()) EXPECT_EQ(v, 257);
    for (int32_t v : xnor_matmul(a, z, {k}).to_host<int32_t>()) EXPECT_EQ(v, -257);
  }
}

TEST(XnorGemm, RefusesBadArguments) {
  Tensor a = Tensor::zeros({2, 33}).to(DType::b1), b = Tensor::zeros({3, 32}).to(DType::b1);
  EXPECT_THROW(xnor_matmul(a, b), Error);
  EXPECT_THROW(xnor_matmul(Tensor::zeros({2, 33}), a), Error);
}

// ---------------------------------------------------------------- convolution

struct ConvCase {
  int64_t N, H, W, C, O, K;
};

TEST(XnorConv, ExactForEveryStridePaddingAndPath) {
  const ConvCase cases[] = {
      {2, 7, 5, 1, 3, 3},  {2, 9, 9, 31, 5, 3}, {1, 8, 6, 32, 4, 3},  {2, 5, 7, 33, 3, 3},
      {1, 6, 6, 65, 2, 3}, {2, 7, 5, 33, 5, 1}, {1, 8, 8, 64, 3, 1},  {1, 3, 3, 257, 2, 3},
  };
  for (const ConvCase& c : cases) {
    std::vector<float> x = signs_input(c.N * c.H * c.W * c.C, c.C), w = signs_input(c.O * c.K * c.K * c.C, c.C + 50);
    Tensor px = packed(x, {c.N, c.H, c.W, c.C}), pw = packed(w, {c.O, c.K, c.K, c.C});
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1}) {
        std::vector<int64_t> want = ref::xnor_conv2d(x, w, c.N, c.H, c.W, c.C, c.O, c.K, c.K, stride, pad);
        for (XnorKernel k : kernels())
          for (int threads : {1, 2}) {
            std::string what = std::string(kernel_name(k)) + " " + std::to_string(c.H) + "x" + std::to_string(c.W) +
                               "x" + std::to_string(c.C) + " k" + std::to_string(c.K) + " s" + std::to_string(stride) +
                               " p" + std::to_string(pad) + " t" + std::to_string(threads);
            Tensor y = xnor_conv2d(px, pw, stride, pad, {k, threads});
            int64_t OH = (c.H + 2 * pad - c.K) / stride + 1, OW = (c.W + 2 * pad - c.K) / stride + 1;
            ASSERT_EQ(y.shape(), (Shape{c.N, OH, OW, c.O})) << what;
            expect_equal(want, y, what);
          }
      }
  }
}

TEST(XnorConv, LargeMultiThreaded) {
  const int64_t N = 2, H = 15, W = 13, C = 96, O = 40;
  std::vector<float> x = signs_input(N * H * W * C, 8), w = signs_input(O * 9 * C, 9);
  Tensor px = packed(x, {N, H, W, C}), pw = packed(w, {O, 3, 3, C});
  std::vector<int64_t> want = ref::xnor_conv2d(x, w, N, H, W, C, O, 3, 3, 1, 1);
  for (XnorKernel k : kernels()) expect_equal(want, xnor_conv2d(px, pw, 1, 1, {k, 2}), kernel_name(k));
}

TEST(XnorConv, RefusesBadArguments) {
  Tensor x = Tensor::zeros({1, 4, 4, 8}).to(DType::b1);
  EXPECT_THROW(xnor_conv2d(x, Tensor::zeros({2, 3, 3, 9}).to(DType::b1), 1, 1), Error);  // C mismatch
  EXPECT_THROW(xnor_conv2d(x, Tensor::zeros({2, 5, 5, 8}).to(DType::b1), 1, 0), Error);  // kernel too big
  EXPECT_THROW(xnor_conv2d(x, Tensor::zeros({2, 3, 3, 8}).to(DType::b1), 0, 1), Error);  // stride 0
}

// ---------------------------------------------------------------- epilogues

struct Bn {
  float alpha, gamma, beta, mean, var, eps;
};

// threshold_pack's bit for s must be the float model's sign of the batch-normed value.
void check_threshold(const Bn& p, int64_t range) {
  cpu::ChannelThreshold th = cpu::fold_bn_threshold(p.alpha, p.gamma, p.beta, p.mean, p.var, p.eps);
  for (int64_t s = -range; s <= range; ++s) {
    int32_t si = static_cast<int32_t>(s);
    uint32_t bit = 0;
    cpu::threshold_pack(&si, 1, 1, 1, &th, &bit);
    double y = ref::bn_of_sum(s, p.alpha, p.gamma, p.beta, p.mean, p.var, p.eps);
    ASSERT_EQ(bit, y < 0 ? 1u : 0u) << "s " << s << " y " << y << " (alpha " << p.alpha << ", gamma " << p.gamma
                                    << ", beta " << p.beta << ", mean " << p.mean << ")";
  }
}

TEST(XnorEpilogue, ThresholdMatchesFloatSignIncludingTies) {
  // var + eps = 1 exactly (σ = 1), so these taus are exact integers: s = τ gives y = 0 -> +1.
  check_threshold({1.f, 2.f, -1.f, 2.5f, 0.75f, 0.25f}, 20);   // γ > 0, tie at s = 3
  check_threshold({1.f, -2.f, 1.f, 2.5f, 0.75f, 0.25f}, 20);   // γ < 0, tie at s = 3
  check_threshold({0.5f, 1.f, 0.f, -3.f, 0.75f, 0.25f}, 20);   // α scale, tie at s = -6
  check_threshold({-1.f, 1.f, 0.f, 4.f, 0.75f, 0.25f}, 20);    // α < 0 flips the direction
  check_threshold({1.f, 0.f, 0.f, 3.f, 1.f, 1e-5f}, 20);       // γ = 0, β = 0: always +1
  check_threshold({1.f, 0.f, -0.5f, 3.f, 1.f, 1e-5f}, 20);     // γ = 0, β < 0: always -1
  check_threshold({0.f, 1.f, 0.f, 3.f, 1.f, 1e-5f}, 20);       // α = 0: constant -μ/σ < 0
  check_threshold({1.f, 1.f, 1e9f, 0.f, 1.f, 0.f}, 20);        // τ far outside: always +1
  // Random parameters.
  Generator gen(77);
  std::vector<float> r = Tensor::rand({6 * 200}, Device::cpu(), &gen).to_vector();
  for (int i = 0; i < 200; ++i) {
    const float* q = &r[6 * i];
    check_threshold({0.5f + q[0], 4.f * q[1] - 2.f, 4.f * q[2] - 2.f, 60.f * q[3] - 30.f, 10.f * q[4], 1e-5f}, 64);
  }
}

TEST(XnorEpilogue, ThresholdPackRowsAndPadding) {
  const int64_t rows = 3, cols = 37;
  Generator gen(12);
  std::vector<int32_t> s = Tensor::randint(-20, 21, {rows * cols}, Device::cpu(), &gen).to_host<int32_t>();
  std::vector<cpu::ChannelThreshold> th(cols);
  for (int64_t c = 0; c < cols; ++c)
    th[c] = cpu::fold_bn_threshold(1.f, c % 2 ? 1.f : -1.f, 0.f, static_cast<float>(c % 9 - 4), 1.f, 0.f);
  std::vector<uint32_t> out(static_cast<size_t>(rows * packed_words(cols)), 0xffffffffu);
  cpu::threshold_pack(s.data(), cols, rows, cols, th.data(), out.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < 64; ++c) {
      uint32_t bit = (out[r * 2 + c / 32] >> (c % 32)) & 1u;
      uint32_t want = c < cols ? (ref::bn_of_sum(s[r * cols + c], 1.f, c % 2 ? 1.f : -1.f, 0.f,
                                                 static_cast<float>(c % 9 - 4), 1.f, 0.f) < 0)
                               : 0u;
      EXPECT_EQ(bit, want) << "row " << r << " channel " << c;
    }
}

TEST(XnorEpilogue, ScaleAndFloatOutputMatchReference) {
  const int64_t rows = 4, cols = 9;
  Generator gen(3);
  std::vector<int32_t> s = Tensor::randint(-500, 501, {rows * cols}, Device::cpu(), &gen).to_host<int32_t>();
  std::vector<float> q = Tensor::rand({5 * cols}, Device::cpu(), &gen).to_vector();
  std::vector<float> alpha(cols), a(cols), b(cols), y(rows * cols), z(rows * cols);
  std::vector<Bn> bn(cols);
  for (int64_t c = 0; c < cols; ++c) {
    alpha[c] = 0.01f + q[c];
    bn[c] = {alpha[c], 4.f * q[cols + c] - 2.f, q[2 * cols + c] - 0.5f, 20.f * q[3 * cols + c] - 10.f,
             0.1f + q[4 * cols + c], 1e-5f};
    cpu::fold_bn_affine(bn[c].alpha, bn[c].gamma, bn[c].beta, bn[c].mean, bn[c].var, bn[c].eps, a[c], b[c]);
  }
  cpu::scale_to_f32(s.data(), cols, rows, cols, alpha.data(), nullptr, y.data(), cols);
  cpu::scale_to_f32(s.data(), cols, rows, cols, a.data(), b.data(), z.data(), cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    int64_t c = i % cols;
    double want_y = static_cast<double>(alpha[c]) * s[i];
    EXPECT_NEAR(y[i], want_y, test::kForwardAtol + test::kForwardRtol * std::abs(want_y)) << i;
    double want_z = ref::bn_of_sum(s[i], bn[c].alpha, bn[c].gamma, bn[c].beta, bn[c].mean, bn[c].var, bn[c].eps);
    EXPECT_NEAR(z[i], want_z, test::kForwardAtol + test::kForwardRtol * std::abs(want_z)) << i;
  }
}

TEST(XnorEpilogue, RefusesBadParameters) {
  EXPECT_THROW(cpu::fold_bn_threshold(1.f, 1.f, 0.f, NAN, 1.f, 0.f), Error);
  EXPECT_THROW(cpu::fold_bn_threshold(1.f, 1.f, 0.f, 0.f, 0.f, 0.f), Error);
}

}  // namespace
}  // namespace lowbit
