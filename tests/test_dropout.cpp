// Tests for dropout (core/ops/dropout.h): kept fraction within statistical bounds, survivors
// scaled by exactly 1/(1-p), determinism from the generator's seed (explicit and default),
// identity in evaluation, gradient = the same mask·scale, and p outside [0, 1) refused.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

class DropoutTest : public DeviceTest {};

TEST_P(DropoutTest, DropsAFractionPAndScalesSurvivors) {
  const int64_t n = 100000;
  for (float p : {0.1f, 0.5f, 0.8f}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Generator gen(7);
    std::vector<float> y = dropout(Tensor::ones({n}, DType::f32, device()), p, true, &gen).to_vector();
    const float scale = 1.f / (1.f - p);
    int64_t dropped = 0;
    for (float v : y) {
      if (v == 0.f) ++dropped;
      else EXPECT_EQ(v, scale);
    }
    // Within 5 standard deviations of a Binomial(n, p) count.
    double sigma = std::sqrt(n * p * (1.0 - p));
    EXPECT_NEAR(static_cast<double>(dropped), n * static_cast<double>(p), 5 * sigma);
  }
}

TEST_P(DropoutTest, SameSeedSameMask) {
  Tensor x = Tensor::ones({4, 257}, DType::f32, device());
  Generator a(42), b(42), c(43);
  std::vector<float> ya = dropout(x, 0.3f, true, &a).to_vector();
  EXPECT_EQ(ya, dropout(x, 0.3f, true, &b).to_vector());
  EXPECT_NE(ya, dropout(x, 0.3f, true, &c).to_vector());    // another seed
  EXPECT_NE(ya, dropout(x, 0.3f, true, &a).to_vector());    // the next stream of the same seed
  EXPECT_EQ(a.stream(), 2u);
}

TEST_P(DropoutTest, DefaultGeneratorIsSeedable) {
  Tensor x = Tensor::ones({1000}, DType::f32, device());
  manual_seed(5);
  std::vector<float> first = dropout(x, 0.5f, true).to_vector();
  manual_seed(5);
  EXPECT_EQ(first, dropout(x, 0.5f, true).to_vector());
}

TEST_P(DropoutTest, IdentityInEvaluation) {
  ref::Arr a = random_arr({3, 5}, -1, 1, 71);
  Tensor x = from_ref(a, device()).requires_grad_();
  Generator gen(1);
  Tensor y = dropout(x, 0.5f, false, &gen);
  EXPECT_EQ(to_ref(y).v, a.v);
  EXPECT_EQ(gen.stream(), 0u);  // no draw
  sum(y * 1.f).backward();
  EXPECT_EQ(x.grad().to_vector(), std::vector<float>(15, 1.f));
}

TEST_P(DropoutTest, ZeroProbabilityKeepsEverything) {
  ref::Arr a = random_arr({64}, -1, 1, 72);
  Generator gen(3);
  EXPECT_EQ(to_ref(dropout(from_ref(a, device()), 0.f, true, &gen)).v, a.v);
}

TEST_P(DropoutTest, GradientIsTheSameMaskTimesScale) {
  const float p = 0.4f, scale = 1.f / (1.f - p);
  ref::Arr a = random_arr({5, 40}, 0.5, 1.5, 73);  // nonzero, so zeros in y mark dropped elements
  Tensor x = from_ref(a, device()).requires_grad_();
  Generator gen(11);
  Tensor y = dropout(x, p, true, &gen);
  ref::Arr w = random_arr(y.shape(), -1, 1, 74);
  y.backward(from_ref(w, device()));
  std::vector<float> yv = y.to_vector(), gv = x.grad().to_vector(), xv = x.to_vector(), wv = from_ref(w).to_vector();
  for (size_t i = 0; i < yv.size(); ++i) {
    float mask = yv[i] == 0.f ? 0.f : scale;
    EXPECT_EQ(yv[i], xv[i] * mask) << i;
    EXPECT_EQ(gv[i], wv[i] * mask) << i;
  }
}

TEST_P(DropoutTest, ProbabilityOutsideRangeRefused) {
  Tensor x = Tensor::ones({4}, DType::f32, device());
  EXPECT_THROW(dropout(x, 1.f, true), Error);
  EXPECT_THROW(dropout(x, -0.1f, true), Error);
  EXPECT_THROW(dropout(x, std::nanf(""), true), Error);
  EXPECT_THROW(dropout(x, 1.f, false), Error);
}

LOWBIT_INSTANTIATE_DEVICES(DropoutTest);

}  // namespace
}  // namespace lowbit::test
