// Tests for the layers beyond Linear: Conv2d, BatchNorm1d/2d, HardTanh, MaxPool2d, AvgPool2d,
// GlobalAvgPool and Dropout — forward and backward against the float64 references
// (tests/layer_check.h), parameter and buffer layout, batch-norm train/eval behaviour and
// running-statistic updates, dropout's generator use, and argument errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/pool.h"
#include "tests/layer_check.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using test::check_layer;
using test::expect_close;
using test::random_arr;
using test::to_ref;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> param_names(const Module& m) {
  std::vector<std::string> n;
  for (const auto& [name, t] : m.named_parameters()) n.push_back(name);
  return n;
}
std::vector<std::string> buffer_names(const Module& m) {
  std::vector<std::string> n;
  for (const auto& [name, t] : m.named_buffers()) n.push_back(name);
  return n;
}

// ---------------------------------------------------------------- Conv2d

class Conv2dLayerTest : public test::DeviceTest {};
LOWBIT_INSTANTIATE_DEVICES(Conv2dLayerTest);

TEST_P(Conv2dLayerTest, ForwardAndBackwardMatchReference) {
  struct Case {
    Conv2dOptions o;
    Shape x;
  };
  const Case cases[] = {
      {{.in_channels = 3, .out_channels = 4, .kernel = 3, .stride = 1, .padding = 1, .groups = 1, .bias = true},
       {2, 5, 5, 3}},
      {{.in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 0, .groups = 1, .bias = false},
       {2, 7, 6, 2}},
      {{.in_channels = 4, .out_channels = 6, .kernel = 1, .stride = 1, .padding = 0, .groups = 2, .bias = true},
       {1, 3, 3, 4}},
      {{.in_channels = 3, .out_channels = 3, .kernel = 3, .stride = 2, .padding = 1, .groups = 3, .bias = false},
       {2, 5, 5, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("groups " + std::to_string(c.o.groups) + ", stride " + std::to_string(c.o.stride));
    Generator gen(1);
    Conv2d layer(c.o, gen, device());
    const Conv2dOptions o = c.o;
    check_layer(
        layer, random_arr(c.x),
        [o](const std::vector<ref::Arr>& in) {
          return ref::conv2d(in[0], in[1], o.bias ? in[2] : ref::Arr{}, o.stride, o.stride, o.padding, o.padding,
                             o.groups);
        },
        device(), test::accum_forward());
  }
}

TEST(Conv2dLayer, LayoutAndDefaultInit) {
  Generator gen(0);
  Conv2d layer({.in_channels = 8, .out_channels = 32, .kernel = 3, .groups = 2}, gen);
  EXPECT_THAT(param_names(layer), ElementsAre("weight", "bias"));
  EXPECT_THAT(layer.weight().shape(), ElementsAre(32, 3, 3, 4));  // OHWI, C/groups
  EXPECT_THAT(layer.bias().shape(), ElementsAre(32));
  EXPECT_TRUE(buffer_names(layer).empty());
  const double bound = 1.0 / std::sqrt(3.0 * 3.0 * 4.0);  // 1/sqrt(fan_in)
  for (const Tensor& t : {layer.weight(), layer.bias()})
    for (float v : t.to_vector()) {
      EXPECT_GE(v, -bound);
      EXPECT_LT(v, bound);
    }
  Conv2d no_bias({.in_channels = 1, .out_channels = 2, .kernel = 5, .bias = false}, gen);
  EXPECT_THAT(param_names(no_bias), ElementsAre("weight"));
  EXPECT_FALSE(no_bias.bias().defined());
}

TEST(Conv2dLayer, RefusesBadOptionsAndInputs) {
  Generator gen(0);
  EXPECT_THROW(Conv2d({.in_channels = 6, .out_channels = 4, .groups = 4}, gen), Error);  // 4 does not divide 6
  EXPECT_THROW(Conv2d({.in_channels = 0, .out_channels = 4}, gen), Error);
  EXPECT_THROW(Conv2d({.in_channels = 2, .out_channels = 4, .stride = 0}, gen), Error);
  Conv2d layer({.in_channels = 3, .out_channels = 4}, gen);
  try {
    layer(Tensor::zeros({1, 8, 8, 1}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("[1, 8, 8, 1]"));
    EXPECT_THAT(e.what(), HasSubstr("Conv2d(3 -> 4"));
  }
}

// ---------------------------------------------------------------- BatchNorm

class BatchNormLayerTest : public test::DeviceTest {};
LOWBIT_INSTANTIATE_DEVICES(BatchNormLayerTest);

constexpr double kBnEps = 1e-5;

TEST_P(BatchNormLayerTest, TrainForwardAndBackwardMatchReference) {
  BatchNorm2d bn2(3, {}, device());
  BatchNorm1d bn1(4, {}, device());
  {
    // Non-trivial gamma/beta, so their gradients and effect are visible.
    NoGradGuard no_grad;
    Tensor(bn2.weight()).copy_(Tensor::from_vector({0.5f, 1.5f, -1.f}, {3}));
    Tensor(bn2.bias()).copy_(Tensor::from_vector({0.1f, -0.2f, 0.3f}, {3}));
  }
  auto reference = [](const std::vector<ref::Arr>& in) { return ref::batch_norm_train(in[0], in[1], in[2], kBnEps).y; };
  check_layer(bn2, random_arr({2, 3, 2, 3}, -2, 3, 5), reference, device());
  check_layer(bn1, random_arr({5, 4}, -1, 2, 6), reference, device());
}

TEST_P(BatchNormLayerTest, RunningStatisticsFollowMomentum) {
  BatchNorm2d bn(5, {}, device());
  EXPECT_THAT(param_names(bn), ElementsAre("weight", "bias"));
  EXPECT_THAT(buffer_names(bn), ElementsAre("running_mean", "running_var"));
  EXPECT_FALSE(bn.running_mean().requires_grad());
  EXPECT_EQ(bn.running_mean().to_vector(), std::vector<float>(5, 0.f));
  EXPECT_EQ(bn.running_var().to_vector(), std::vector<float>(5, 1.f));

  ref::Arr x1 = random_arr({3, 2, 2, 5}, -2, 2, 8), x2 = random_arr({3, 2, 2, 5}, 0, 4, 9);
  bn(test::from_ref(x1, device()));
  bn(test::from_ref(x2, device()));
  // Two updates from (0, 1) with momentum 0.1 and the unbiased batch variance.
  ref::BatchNormTrainOut s1 = ref::batch_norm_train(x1, {}, {}, kBnEps), s2 = ref::batch_norm_train(x2, {}, {}, kBnEps);
  ref::Arr want_mean = ref::make({5}), want_var = ref::make({5});
  for (size_t c = 0; c < 5; ++c) {
    want_mean.v[c] = 0.9 * (0.9 * 0.0 + 0.1 * s1.mean.v[c]) + 0.1 * s2.mean.v[c];
    want_var.v[c] = 0.9 * (0.9 * 1.0 + 0.1 * s1.var_unbiased.v[c]) + 0.1 * s2.var_unbiased.v[c];
  }
  expect_close(want_mean, bn.running_mean(), test::kAccumAtol, test::kAccumRtol, "running_mean");
  expect_close(want_var, bn.running_var(), test::kAccumAtol, test::kAccumRtol, "running_var");
}

TEST_P(BatchNormLayerTest, EvalUsesRunningStatisticsAndLeavesThemAlone) {
  BatchNorm1d bn(3, {}, device());
  bn(test::from_ref(random_arr({6, 3}, -1, 3, 10), device()));  // moves the running statistics
  bn.eval();
  EXPECT_FALSE(bn.is_training());
  ref::Arr rm = to_ref(bn.running_mean()), rv = to_ref(bn.running_var());
  auto reference = [rm, rv](const std::vector<ref::Arr>& in) {
    return ref::batch_norm_eval(in[0], rm, rv, in[1], in[2], kBnEps);
  };
  check_layer(bn, random_arr({4, 3}, -2, 2, 11), reference, device());
  EXPECT_EQ(to_ref(bn.running_mean()).v, rm.v);
  EXPECT_EQ(to_ref(bn.running_var()).v, rv.v);
  // One example is fine in evaluation (no batch statistics needed).
  EXPECT_THAT(bn(Tensor::zeros({1, 3}, DType::f32, device())).shape(), ElementsAre(1, 3));
}

TEST(BatchNormLayer, NonAffineHasOnlyBuffers) {
  BatchNorm2d bn(4, {.momentum = 0.5f, .eps = 1e-3f, .affine = false});
  EXPECT_TRUE(param_names(bn).empty());
  EXPECT_THAT(buffer_names(bn), ElementsAre("running_mean", "running_var"));
  ref::Arr x = random_arr({2, 2, 2, 4}, -1, 1, 12);
  expect_close(ref::batch_norm_train(x, {}, {}, 1e-3).y, bn(test::from_ref(x)));
}

TEST(BatchNormLayer, RefusesWrongRankOrChannels) {
  BatchNorm2d bn2(3);
  BatchNorm1d bn1(3);
  try {
    bn2(Tensor::zeros({4, 3}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("BatchNorm2d(3)"));
    EXPECT_THAT(e.what(), HasSubstr("[4, 3]"));
  }
  EXPECT_THROW(bn1(Tensor::zeros({4, 1, 1, 3})), Error);
  EXPECT_THROW(bn1(Tensor::zeros({4, 5})), Error);
  EXPECT_THROW(BatchNorm1d(0), Error);
  EXPECT_THROW(BatchNorm1d(2, {.momentum = 1.5f}), Error);
}

// ---------------------------------------------------------------- activations and pools

class PoolLayerTest : public test::DeviceTest {};
LOWBIT_INSTANTIATE_DEVICES(PoolLayerTest);

TEST_P(PoolLayerTest, PoolsMatchReference) {
  ref::Arr x = random_arr({2, 5, 6, 3}, -1, 1, 13);
  MaxPool2d max2(2), max3(3, 2, 1);
  AvgPool2d avg2(2), avg3(3, 2, 1, false);
  GlobalAvgPool gap;
  check_layer(
      max2, x, [](const std::vector<ref::Arr>& in) { return ref::max_pool2d(in[0], 2, 2, 2, 2, 0, 0); }, device());
  check_layer(
      max3, x, [](const std::vector<ref::Arr>& in) { return ref::max_pool2d(in[0], 3, 3, 2, 2, 1, 1); }, device());
  check_layer(
      avg2, x, [](const std::vector<ref::Arr>& in) { return ref::avg_pool2d(in[0], 2, 2, 2, 2, 0, 0, true); },
      device());
  check_layer(
      avg3, x, [](const std::vector<ref::Arr>& in) { return ref::avg_pool2d(in[0], 3, 3, 2, 2, 1, 1, false); },
      device());
  check_layer(
      gap, x, [](const std::vector<ref::Arr>& in) { return ref::global_avg_pool(in[0]); }, device());
}

TEST_P(PoolLayerTest, HardTanhClampsAndPassesGradientInside) {
  HardTanh ht, wide(-2.f, 0.5f);
  // Values away from the kinks for the numeric check; the kinks are checked exactly below.
  ref::Arr x = ref::from({6}, {-3.0, -1.5, -0.5, 0.25, 0.75, 2.5});
  auto clamp = [](double lo, double hi) {
    return [lo, hi](const std::vector<ref::Arr>& in) {
      return ref::unary(in[0], [lo, hi](double v) { return std::min(hi, std::max(lo, v)); });
    };
  };
  check_layer(ht, x, clamp(-1, 1), device());
  check_layer(wide, x, clamp(-2, 0.5), device());
  Tensor kinks = Tensor::from_vector({-1.f, 1.f}, {2}, device()).requires_grad_();
  sum(ht(kinks)).backward();
  EXPECT_EQ(kinks.grad().to_vector(), (std::vector<float>{1.f, 1.f}));  // closed interval, as clamp
}

// ---------------------------------------------------------------- Dropout

TEST(DropoutLayer, EvalIsIdentityAndTrainingIsSeeded) {
  Generator g1(5), g2(5);
  Dropout a(0.25f, &g1), b(0.25f, &g2);
  Tensor x = Tensor::ones({100, 100});
  a.eval();
  EXPECT_EQ(a(x).to_vector(), x.to_vector());
  EXPECT_EQ(g1.stream(), 0u) << "evaluation draws nothing";
  a.train();
  std::vector<float> ya = a(x).to_vector(), yb = b(x).to_vector();
  EXPECT_EQ(ya, yb) << "same seed, same mask";
  EXPECT_EQ(g1.stream(), 1u);
  int zeros = 0;
  for (float v : ya) {
    if (v == 0.f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(v, 1.f / 0.75f);
  }
  EXPECT_NEAR(zeros / 1e4, 0.25, test::kSampleMomentAtol);
  EXPECT_NE(a(x).to_vector(), ya) << "the next call takes the next stream";
}

TEST(DropoutLayer, DefaultGeneratorAndBadP) {
  manual_seed(3);
  Dropout d(0.5f);
  Tensor x = Tensor::ones({64});
  std::vector<float> first = d(x).to_vector();
  manual_seed(3);
  EXPECT_EQ(d(x).to_vector(), first);
  EXPECT_THROW(Dropout(1.f), Error);
  EXPECT_THROW(Dropout(-0.1f), Error);
}

}  // namespace
}  // namespace lowbit
