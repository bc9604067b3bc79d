// The deploy ops on the CPU: xnor_matmul / xnor_conv2d with an epilogue (threshold -> b1, affine
// -> f32) against the float64 ±1 references with batch norm and sign evaluated in float64,
// the standalone xnor_epilogue, binary_max_pool2d against the float max-pool of the ±1 values,
// batch_norm_sign against batch_norm + packing (bit for bit), the host-side batch-norm folds, and
// the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/ops/binary.h"
#include "core/ops/norm.h"
#include "core/random.h"
#include "core/tensor.h"
#include "kernels/cpu/xnor_epilogue.h"
#include "tests/file_util.h"
#include "tests/reference/ops.h"
#include "tests/reference/xnor.h"
#include "tests/tolerances.h"

namespace lowbit {
namespace {

// Uniform [-1, 1) with every 5th value an exact 0 (which must count as +1).
std::vector<float> signs_input(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v = Tensor::rand({n}, Device::cpu(), &gen).to_vector();
  for (int64_t i = 0; i < n; ++i) v[i] = (i % 5 == 2) ? 0.f : 2.f * v[i] - 1.f;
  return v;
}

struct Bn {
  float alpha, gamma, beta, mean, var, eps;
};

// Per-channel batch-norm parameters: mixed signs of γ (and one γ = 0), means near the sums'
// range, and channel 1 with an exact tie (σ = 1, τ = 2 an integer).
std::vector<Bn> channel_bns(int64_t channels, double sum_range, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> q = Tensor::rand({5 * channels}, Device::cpu(), &gen).to_vector();
  std::vector<Bn> bn(channels);
  for (int64_t c = 0; c < channels; ++c) {
    const float* r = &q[5 * c];
    bn[c] = {0.25f + r[0], 4.f * r[1] - 2.f, r[2] - 0.5f, static_cast<float>(sum_range * (r[3] - 0.5)),
             0.1f + 3.f * r[4], 1e-5f};
  }
  if (channels > 1) bn[1] = {1.f, 1.f, 0.f, 2.f, 0.75f, 0.25f};
  if (channels > 2) bn[2].gamma = 0.f;
  return bn;
}

struct Folded {
  XnorEpilogue threshold, affine;
};

Folded fold(const std::vector<Bn>& bn) {
  const int64_t C = static_cast<int64_t>(bn.size());
  std::vector<int32_t> t(C);
  std::vector<uint8_t> mode(C);
  std::vector<float> a(C), b(C);
  for (int64_t c = 0; c < C; ++c) {
    cpu::ChannelThreshold th = cpu::fold_bn_threshold(bn[c].alpha, bn[c].gamma, bn[c].beta, bn[c].mean, bn[c].var,
                                                      bn[c].eps);
    t[c] = th.t;
    mode[c] = static_cast<uint8_t>(th.mode);
    cpu::fold_bn_affine(bn[c].alpha, bn[c].gamma, bn[c].beta, bn[c].mean, bn[c].var, bn[c].eps, a[c], b[c]);
  }
  Folded f;
  f.threshold.kind = XnorEpilogue::Kind::threshold;
  f.threshold.threshold = Tensor::from_vector(t, {C});
  f.threshold.mode = Tensor::from_vector(mode, {C});
  f.affine.kind = XnorEpilogue::Kind::affine;
  f.affine.scale = Tensor::from_vector(a, {C});
  f.affine.bias = Tensor::from_vector(b, {C});
  return f;
}

// Checks the threshold (b1) and affine (f32) outputs of `sums` (the reference integer sums,
// channel innermost) against batch norm + sign in float64.
void expect_epilogues(const std::vector<int64_t>& sums, const std::vector<Bn>& bn, const Tensor& bits,
                      const Tensor& affine, const std::string& what) {
  const int64_t C = static_cast<int64_t>(bn.size());
  ASSERT_EQ(bits.dtype(), DType::b1) << what;
  ASSERT_EQ(affine.dtype(), DType::f32) << what;
  std::vector<float> pm = bits.to(DType::f32).to_vector();
  std::vector<float> y = affine.to_vector();
  ASSERT_EQ(pm.size(), sums.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < sums.size(); ++i) {
    const Bn& p = bn[i % C];
    double want = ref::bn_of_sum(sums[i], p.alpha, p.gamma, p.beta, p.mean, p.var, p.eps);
    if (pm[i] != (want < 0 ? -1.f : 1.f) && bad++ < 3)
      ADD_FAILURE() << what << ": element " << i << " sum " << sums[i] << " gave " << pm[i] << ", bn " << want;
    EXPECT_NEAR(y[i], want, test::kForwardAtol + test::kForwardRtol * std::abs(want) + 1e-6 * std::abs(sums[i]))
        << what << " element " << i;
  }
  EXPECT_EQ(bad, 0) << what;
}

TEST(DeployOps, XnorMatmulEpiloguesMatchBatchNormSign) {
  for (int64_t K : {7, 64, 100}) {
    const int64_t M = 9, N = 37;
    std::vector<float> a = signs_input(M * K, K), b = signs_input(N * K, K + 1);
    std::vector<int64_t> sums = ref::xnor_gemm(a, b, M, N, K);
    std::vector<Bn> bn = channel_bns(N, 0.5 * K, K + 2);
    Folded f = fold(bn);
    Tensor pa = Tensor::from_vector(a, {M, K}).to(DType::b1), pb = Tensor::from_vector(b, {N, K}).to(DType::b1);
    expect_epilogues(sums, bn, xnor_matmul(pa, pb, f.threshold), xnor_matmul(pa, pb, f.affine),
                     "matmul K " + std::to_string(K));
    // The plain sums and the standalone epilogue agree with the fused one.
    Tensor s = xnor_matmul(pa, pb);
    EXPECT_EQ(xnor_epilogue(s, f.threshold).to_host<uint32_t>(), xnor_matmul(pa, pb, f.threshold).to_host<uint32_t>());
    EXPECT_EQ(xnor_epilogue(s, XnorEpilogue{}).to_host<int32_t>(), s.to_host<int32_t>());
  }
}

TEST(DeployOps, XnorConv2dEpiloguesMatchBatchNormSign) {
  struct Case {
    int64_t N, H, W, C, O, K, stride, pad;
  };
  for (const Case& c : {Case{2, 6, 5, 3, 5, 3, 1, 1}, Case{1, 7, 7, 40, 33, 3, 2, 1}, Case{2, 4, 4, 64, 8, 1, 1, 0}}) {
    std::vector<float> x = signs_input(c.N * c.H * c.W * c.C, c.C), w = signs_input(c.O * c.K * c.K * c.C, c.O);
    std::vector<int64_t> sums = ref::xnor_conv2d(x, w, c.N, c.H, c.W, c.C, c.O, c.K, c.K, c.stride, c.pad);
    std::vector<Bn> bn = channel_bns(c.O, 0.5 * c.K * c.K * c.C, c.C + c.O);
    Folded f = fold(bn);
    Tensor px = Tensor::from_vector(x, {c.N, c.H, c.W, c.C}).to(DType::b1);
    Tensor pw = Tensor::from_vector(w, {c.O, c.K, c.K, c.C}).to(DType::b1);
    Tensor bits = xnor_conv2d(px, pw, c.stride, c.pad, f.threshold);
    Tensor y = xnor_conv2d(px, pw, c.stride, c.pad, f.affine);
    EXPECT_EQ(bits.shape(), y.shape());
    expect_epilogues(sums, bn, bits, y, "conv C " + std::to_string(c.C));
  }
}

TEST(DeployOps, AffineWithoutBiasIsTheScale) {
  const int64_t M = 3, N = 5, K = 50;
  std::vector<float> a = signs_input(M * K, 1), b = signs_input(N * K, 2);
  std::vector<int64_t> sums = ref::xnor_gemm(a, b, M, N, K);
  XnorEpilogue ep;
  ep.kind = XnorEpilogue::Kind::affine;
  ep.scale = Tensor::from_vector({0.5f, -1.f, 2.f, 0.f, 0.125f}, {N});
  std::vector<float> y =
      xnor_matmul(Tensor::from_vector(a, {M, K}).to(DType::b1), Tensor::from_vector(b, {N, K}).to(DType::b1), ep)
          .to_vector();
  std::vector<float> scale = ep.scale.to_vector();
  for (int64_t i = 0; i < M * N; ++i) EXPECT_EQ(y[i], scale[i % N] * static_cast<float>(sums[i])) << i;
}

TEST(DeployOps, BinaryMaxPoolIsTheFloatMaxPoolOfTheSigns) {
  struct Case {
    int64_t N, H, W, C, k, stride, pad;
  };
  for (const Case& c : {Case{2, 4, 6, 5, 2, 2, 0}, Case{1, 7, 7, 70, 3, 2, 1}, Case{2, 5, 4, 32, 2, 1, 1}}) {
    std::vector<float> x = signs_input(c.N * c.H * c.W * c.C, c.C + c.k);
    // About 3/4 -1 (and some exact zeros, +1) so that all -1 windows occur.
    for (float& v : x) v = v >= 0.5f || v == 0.f ? v : -std::abs(v) - 0.5f;
    ref::Arr pm = ref::make({c.N, c.H, c.W, c.C});
    for (size_t i = 0; i < x.size(); ++i) pm.v[i] = static_cast<double>(ref::pm1(x[i]));
    ref::Arr want = ref::max_pool2d(pm, c.k, c.k, c.stride, c.stride, c.pad, c.pad);
    Pool2dParams p{c.k, c.k, c.stride, c.stride, c.pad, c.pad};
    Tensor got = binary_max_pool2d(Tensor::from_vector(x, {c.N, c.H, c.W, c.C}).to(DType::b1), p);
    ASSERT_EQ(got.dtype(), DType::b1);
    ASSERT_EQ(got.shape(), Shape(want.shape.begin(), want.shape.end()));
    std::vector<float> g = got.to(DType::f32).to_vector();
    int64_t minus = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      ASSERT_EQ(g[i], want.v[i]) << "C " << c.C << " element " << i;
      minus += g[i] < 0;
    }
    EXPECT_GT(minus, 0) << "no all -1 window in case C " << c.C;
    // Padding bits of the packed output stay 0.
    std::vector<uint32_t> words = got.to_host<uint32_t>();
    const int64_t cw = (c.C + 31) / 32;
    for (size_t px = 0; c.C % 32 != 0 && px < words.size() / cw; ++px)
      EXPECT_EQ(words[px * cw + cw - 1] >> (c.C % 32), 0u);
  }
}

TEST(DeployOps, FoldedEpiloguesMatchBatchNormSign) {
  // fold_bn_*_epilogue (tensor API) on the same parameters as the kernel folds, through the op.
  const int64_t M = 6, N = 11, K = 90;
  std::vector<float> a = signs_input(M * K, 31), b = signs_input(N * K, 32);
  std::vector<int64_t> sums = ref::xnor_gemm(a, b, M, N, K);
  std::vector<Bn> bn = channel_bns(N, 30.0, 33);
  std::vector<float> alpha(N), gamma(N), beta(N), mean(N), var(N);
  for (int64_t c = 0; c < N; ++c) {
    alpha[c] = bn[c].alpha;
    gamma[c] = bn[c].gamma;
    beta[c] = bn[c].beta;
    mean[c] = bn[c].mean;
    var[c] = bn[c].var;
    bn[c].eps = 1e-5f;
  }
  auto t = [N](const std::vector<float>& v) { return Tensor::from_vector(v, {N}); };
  XnorEpilogue th = fold_bn_threshold_epilogue(t(alpha), t(gamma), t(beta), t(mean), t(var), 1e-5f);
  XnorEpilogue af = fold_bn_affine_epilogue(t(alpha), t(gamma), t(beta), t(mean), t(var), 1e-5f);
  Tensor pa = Tensor::from_vector(a, {M, K}).to(DType::b1), pb = Tensor::from_vector(b, {N, K}).to(DType::b1);
  expect_epilogues(sums, bn, xnor_matmul(pa, pb, th), xnor_matmul(pa, pb, af), "folded epilogues");
  EXPECT_THROW(fold_bn_threshold_epilogue(t(alpha), Tensor(), Tensor(), t(mean), Tensor::zeros({N}), 0.f), Error);
}

TEST(DeployOps, BatchNormSignIsBatchNormThenPacking) {
  Generator gen(8);
  for (int64_t C : {5, 32, 45}) {
    Tensor x = Tensor::randn({3, 4, 2, C}, Device::cpu(), &gen);
    // Exact zeros and values that land exactly on the batch norm's zero (x = mean with β = 0).
    std::vector<float> v = x.to_vector();
    for (size_t i = 0; i < v.size(); i += 7) v[i] = 0.f;
    for (size_t i = 3; i < v.size(); i += 11) v[i] = 0.5f;
    x = Tensor::from_vector(v, x.shape());
    std::vector<float> m = Tensor::randn({C}, Device::cpu(), &gen).to_vector();
    m[static_cast<size_t>(3 % C)] = 0.5f;
    Tensor mean = Tensor::from_vector(m, {C}), var = Tensor::rand({C}, Device::cpu(), &gen);
    Tensor gamma = Tensor::randn({C}, Device::cpu(), &gen), beta = Tensor::randn({C}, Device::cpu(), &gen);
    std::vector<float> bz = beta.to_vector();
    bz[static_cast<size_t>(3 % C)] = 0.f;
    beta = Tensor::from_vector(bz, {C});
    for (bool affine : {true, false}) {
      Tensor g = affine ? gamma : Tensor(), b = affine ? beta : Tensor();
      Tensor want = batch_norm(x, g, b, mean, var, false, 0.1f, 1e-3f).to(DType::b1);
      Tensor got = batch_norm_sign(x, g, b, mean, var, 1e-3f);
      ASSERT_EQ(got.dtype(), DType::b1);
      ASSERT_EQ(got.shape(), x.shape());
      EXPECT_EQ(got.to_host<uint32_t>(), want.to_host<uint32_t>()) << "C " << C << (affine ? " affine" : "");
    }
  }
  EXPECT_THROW(batch_norm_sign(Tensor::zeros({2, 3}), Tensor(), Tensor(), Tensor::zeros({4}), Tensor::ones({4}), 0.f),
               Error);
}

TEST(DeployOps, RefusesBadEpiloguesAndPools) {
  Tensor a = Tensor::zeros({2, 8}).to(DType::b1), b = Tensor::zeros({3, 8}).to(DType::b1);
  XnorEpilogue ep;
  ep.kind = XnorEpilogue::Kind::threshold;
  EXPECT_NE(test::error_of([&] { xnor_matmul(a, b, ep); }).find("threshold is missing"), std::string::npos);
  ep.threshold = Tensor::from_vector(std::vector<int32_t>{0, 1}, {2});
  ep.mode = Tensor::from_vector(std::vector<uint8_t>{0, 1, 2}, {3});
  EXPECT_NE(test::error_of([&] { xnor_matmul(a, b, ep); }).find("[3]"), std::string::npos);
  ep.threshold = Tensor::from_vector(std::vector<int32_t>{0, 1, 2}, {3});
  ep.mode = Tensor::from_vector(std::vector<uint8_t>{0, 7, 2}, {3});
  EXPECT_NE(test::error_of([&] { xnor_matmul(a, b, ep); }).find("mode[1] = 7"), std::string::npos);
  XnorEpilogue affine;
  affine.kind = XnorEpilogue::Kind::affine;
  affine.scale = Tensor::zeros({3}, DType::i32);
  EXPECT_THROW(xnor_matmul(a, b, affine), Error);
  EXPECT_THROW(xnor_epilogue(Tensor::zeros({2, 3}), affine), Error);  // sums must be i32
  Tensor img = Tensor::zeros({1, 4, 4, 8}).to(DType::b1);
  EXPECT_THROW(binary_max_pool2d(Tensor::zeros({1, 4, 4, 8}), Pool2dParams{}), Error);  // not b1
  EXPECT_THROW(binary_max_pool2d(img, Pool2dParams{2, 2, 2, 2, 2, 2}), Error);           // pad >= kernel
  EXPECT_THROW(binary_max_pool2d(img, Pool2dParams{5, 5, 1, 1, 0, 0}), Error);           // too large
}

}  // namespace
}  // namespace lowbit
