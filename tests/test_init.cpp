// Tests for the initializers (layers/init.h): exact fan computation for linear and OHWI conv
// weights (groups included), sample statistics of each distribution on large tensors against
// the formula's mean/std/bounds, seeded determinism, in-place filling of parameters, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "layers/init.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

struct Stats {
  double mean = 0, std = 0, lo = 1e30, hi = -1e30;
};
Stats stats(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  Stats s;
  for (float e : v) {
    s.mean += e;
    s.lo = std::min(s.lo, double(e));
    s.hi = std::max(s.hi, double(e));
  }
  s.mean /= double(v.size());
  for (float e : v) s.std += (e - s.mean) * (e - s.mean);
  s.std = std::sqrt(s.std / double(v.size()));
  return s;
}

// Mean ~ 0 (relative to the std) and std within kSampleStdRtol of `want_std`.
void expect_centered(const Stats& s, double want_std, const char* what) {
  EXPECT_NEAR(s.mean / want_std, 0.0, test::kSampleMomentAtol) << what;
  EXPECT_NEAR(s.std / want_std, 1.0, test::kSampleStdRtol) << what;
}

TEST(InitFans, LinearAndConvWeights) {
  init::Fans f = init::compute_fans({30, 20});  // Linear [out, in]
  EXPECT_EQ(f.in, 20);
  EXPECT_EQ(f.out, 30);
  f = init::compute_fans({16, 3, 3, 8});  // OHWI: fan_in = 3·3·8, fan_out = 16·3·3
  EXPECT_EQ(f.in, 72);
  EXPECT_EQ(f.out, 144);
  f = init::compute_fans({16, 5, 3, 2}, 4);  // C_in = 8 in 4 groups: fan_in = 5·3·8/4, fan_out = 16·5·3/4
  EXPECT_EQ(f.in, 30);
  EXPECT_EQ(f.out, 60);
  f = init::compute_fans({32, 3, 3, 1}, 32);  // depthwise
  EXPECT_EQ(f.in, 9);
  EXPECT_EQ(f.out, 9);
  f = init::compute_fans({32, 3, 3, 1});  // PyTorch's fan_out ignores groups: 32·3·3
  EXPECT_EQ(f.out, 288);
  EXPECT_THROW(init::compute_fans({5}), Error);
  EXPECT_THROW(init::compute_fans({6, 3, 3, 1}, 4), Error);  // 4 does not divide 6
  EXPECT_FLOAT_EQ(init::relu_gain(), std::sqrt(2.f));
  EXPECT_FLOAT_EQ(init::leaky_relu_gain(0.f), std::sqrt(2.f));
  EXPECT_FLOAT_EQ(init::leaky_relu_gain(std::sqrt(5.f)), std::sqrt(1.f / 3.f));
}

TEST(InitStats, KaimingNormal) {
  Generator gen(1);
  Tensor w = Tensor::zeros({256, 3, 3, 64});  // fan_in 576, fan_out 2304; 147,456 draws
  init::kaiming_normal_(w, gen);
  expect_centered(stats(w), std::sqrt(2.0 / 576), "fan_in");
  init::kaiming_normal_(w, gen, init::FanMode::Out);
  expect_centered(stats(w), std::sqrt(2.0 / 2304), "fan_out");
  init::kaiming_normal_(w, gen, init::FanMode::Out, 1.f, 4);  // gain 1, 4 groups: fan_out 576
  expect_centered(stats(w), std::sqrt(1.0 / 576), "fan_out with groups");
}

TEST(InitStats, KaimingUniform) {
  Generator gen(2);
  Tensor w = Tensor::zeros({400, 300});
  init::kaiming_uniform_(w, gen);  // bound = sqrt(2)·sqrt(3/300)
  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 300);
  Stats s = stats(w);
  EXPECT_GE(s.lo, -bound * (1 + 1e-6));
  EXPECT_LT(s.hi, bound * (1 + 1e-6));
  EXPECT_GT(s.hi, 0.99 * bound) << "values should fill the interval";
  EXPECT_LT(s.lo, -0.99 * bound);
  expect_centered(s, bound / std::sqrt(3.0), "uniform std = bound/sqrt(3)");
}

TEST(InitStats, XavierAndNormalAndConstant) {
  Generator gen(3);
  Tensor w = Tensor::zeros({500, 250});
  init::xavier_uniform_(w, gen, 2.f);
  const double bound = 2.0 * std::sqrt(6.0 / 750);
  Stats s = stats(w);
  EXPECT_GE(s.lo, -bound * (1 + 1e-6));
  EXPECT_LT(s.hi, bound * (1 + 1e-6));
  expect_centered(s, bound / std::sqrt(3.0), "xavier_uniform");
  init::xavier_normal_(w, gen);
  expect_centered(stats(w), std::sqrt(2.0 / 750), "xavier_normal");
  init::normal_(w, gen, 3.f, 0.5f);
  s = stats(w);
  EXPECT_NEAR(s.mean, 3.0, 0.5 * test::kSampleMomentAtol);
  EXPECT_NEAR(s.std / 0.5, 1.0, test::kSampleStdRtol);
  init::uniform_(w, gen, 2.f, 4.f);
  s = stats(w);
  EXPECT_GE(s.lo, 2.0);
  EXPECT_LT(s.hi, 4.0);
  EXPECT_NEAR(s.mean, 3.0, test::kSampleMomentAtol);
  init::constant_(w, -0.25f);
  s = stats(w);
  EXPECT_EQ(s.lo, -0.25);
  EXPECT_EQ(s.hi, -0.25);
}

TEST(InitDeterminism, SeedFixesValuesAndEachFillTakesOneStream) {
  Generator g1(42), g2(42), g3(43);
  Tensor a = Tensor::zeros({8, 3, 3, 4}), b = Tensor::zeros({8, 3, 3, 4}), c = Tensor::zeros({8, 3, 3, 4});
  init::kaiming_normal_(a, g1);
  init::kaiming_normal_(b, g2);
  init::kaiming_normal_(c, g3);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
  EXPECT_EQ(g1.stream(), 1u);
  init::kaiming_normal_(a, g1);
  EXPECT_NE(a.to_vector(), b.to_vector()) << "the second fill uses the next stream";
  EXPECT_EQ(g1.stream(), 2u);
}

TEST(InitInPlace, FillsParametersWithoutRecordingAutograd) {
  Generator gen(0);
  Tensor p = Tensor::zeros({4, 5}).requires_grad_();
  const TensorImpl* impl = p.unsafe_impl();
  Tensor r = init::xavier_uniform_(p, gen);
  EXPECT_EQ(r.unsafe_impl(), impl) << "returns the same handle";
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_NE(stats(p).hi, 0.0);
  try {
    init::normal_(Tensor::zeros({3}, DType::i32), gen);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("normal_"));
  }
  EXPECT_THROW(init::kaiming_normal_(Tensor::zeros({7}), gen), Error);  // no fan for rank 1
}

TEST(InitInPlace, LayerDefaultMatchesPytorchBounds) {
  Generator gen(9);
  Tensor w = Tensor::zeros({64, 5, 5, 3}), b = Tensor::zeros({64});
  init::layer_default_(w, b, gen);
  const double bound = 1.0 / std::sqrt(75.0);
  for (const Tensor& t : {w, b}) {
    Stats s = stats(t);
    EXPECT_GE(s.lo, -bound);
    EXPECT_LT(s.hi, bound);
  }
  EXPECT_EQ(gen.stream(), 2u) << "weight, then bias";
}

}  // namespace
}  // namespace lowbit
