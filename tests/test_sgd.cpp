// Tests for core/optim/sgd.h: three steps of SGD (plain, momentum, weight decay, Nesterov)
// against float64 updates, literal hand-computed values, two parameter groups with their own
// settings, group learning rates, skipping of parameters without a gradient, zero_grad, and the
// refusal of bad hyper-parameters and of parameters given twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/elementwise.h"
#include "core/optim/sgd.h"
#include "tests/optim_util.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using test::expect_near_ref;
using test::grad_tensor;
using test::param;
using ::testing::HasSubstr;

// The float64 oracle: torch.optim.SGD's update with dampening 0.
std::vector<double> sgd_reference(std::vector<double> p, const std::vector<std::vector<double>>& grads,
                                  const SgdOptions& o) {
  std::vector<double> buf;
  for (const auto& grad : grads) {
    std::vector<double> g(p.size());
    for (size_t i = 0; i < p.size(); ++i) g[i] = grad[i] + double(o.weight_decay) * p[i];
    if (o.momentum != 0.f) {
      if (buf.empty()) {
        buf = g;
      } else {
        for (size_t i = 0; i < p.size(); ++i) buf[i] = double(o.momentum) * buf[i] + g[i];
      }
      for (size_t i = 0; i < p.size(); ++i) g[i] = o.nesterov ? g[i] + double(o.momentum) * buf[i] : buf[i];
    }
    for (size_t i = 0; i < p.size(); ++i) p[i] -= double(o.lr) * g[i];
  }
  return p;
}

// Runs `grads.size()` steps of lowbit's SGD with the given gradients on p0.
std::vector<float> run_sgd(const std::vector<float>& p0, const std::vector<std::vector<double>>& grads,
                           const SgdOptions& o, Device device = Device::cpu()) {
  Tensor p = param(p0, device);
  SGD sgd({p}, o);
  for (const auto& g : grads) {
    sgd.zero_grad();
    p.set_grad(grad_tensor(g, device));
    sgd.step();
  }
  return p.to_vector();
}

const std::vector<float> kP0 = {1.0f, -2.0f, 0.5f, 3.0f};
const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 0.25, 2.0}, {-0.75, 0.5, 1.5, -1.0}, {0.125, 0.25, -0.5, 0.75}};

class SgdTest : public test::DeviceTest {};

struct SgdCase {
  const char* name;
  SgdOptions options;
};

TEST_P(SgdTest, ThreeStepsMatchFloat64Reference) {
  const SgdCase cases[] = {
      {"plain", {.lr = 0.1f}},
      {"momentum", {.lr = 0.1f, .momentum = 0.9f}},
      {"weight decay", {.lr = 0.1f, .weight_decay = 0.01f}},
      {"momentum + weight decay", {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f}},
      {"nesterov", {.lr = 0.1f, .momentum = 0.9f, .nesterov = true}},
      {"nesterov + weight decay", {.lr = 0.2f, .momentum = 0.5f, .nesterov = true, .weight_decay = 0.1f}},
  };
  for (const SgdCase& c : cases) {
    std::vector<double> want = sgd_reference(std::vector<double>(kP0.begin(), kP0.end()), kGrads, c.options);
    expect_near_ref(run_sgd(kP0, kGrads, c.options, device()), want, c.name);
  }
}

// Two groups, each with its own lr, momentum, Nesterov and weight decay, stepped together.
TEST_P(SgdTest, TwoGroupsUseTheirOwnSettings) {
  const SgdOptions oa{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
  const SgdOptions ob{.lr = 0.05f, .momentum = 0.5f, .nesterov = true};
  const std::vector<float> b0 = {0.25f, -0.5f};
  const std::vector<std::vector<double>> b_grads = {{1.0, 2.0}, {-0.5, 0.25}, {0.75, -1.0}};
  Tensor a = param(kP0, device()), b = param(b0, device());
  SGD sgd;
  sgd.add_param_group({a}, oa, "weights");
  sgd.add_param_group({b}, ob, "other");
  ASSERT_EQ(sgd.num_groups(), 2u);
  for (size_t s = 0; s < kGrads.size(); ++s) {
    sgd.zero_grad();
    a.set_grad(grad_tensor(kGrads[s], device()));
    b.set_grad(grad_tensor(b_grads[s], device()));
    sgd.step();
  }
  expect_near_ref(a.to_vector(), sgd_reference({kP0.begin(), kP0.end()}, kGrads, oa), "group weights");
  expect_near_ref(b.to_vector(), sgd_reference({b0.begin(), b0.end()}, b_grads, ob), "group other");
}

LOWBIT_INSTANTIATE_DEVICES(SgdTest);

TEST(Sgd, HandComputedValues) {
  // p = 1, gradient 1 at every step, lr 0.1.
  // momentum 0.9: buf 1, 1.9, 2.71 -> p 0.9, 0.71, 0.439.
  std::vector<std::vector<double>> ones(3, std::vector<double>{1.0});
  EXPECT_NEAR(run_sgd({1.f}, ones, {.lr = 0.1f, .momentum = 0.9f})[0], 0.439, 1e-6);
  // Nesterov 0.9: steps g + 0.9 buf = 1.9, 2.71, 3.439 -> p = 1 - 0.1 * 8.049 = 0.1951.
  EXPECT_NEAR(run_sgd({1.f}, ones, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true})[0], 0.1951, 1e-6);
  // weight decay 0.5, no momentum: g = 1 + 0.5 p; p 1 -> 0.85 -> 0.7075 -> 0.572125.
  EXPECT_NEAR(run_sgd({1.f}, ones, {.lr = 0.1f, .weight_decay = 0.5f})[0], 0.572125, 1e-6);
}

TEST(Sgd, SkipsParametersWithoutGradient) {
  Tensor a = param({1.f, 2.f}), b = param({3.f});
  SGD sgd({a, b}, {.lr = 0.5f, .momentum = 0.9f});
  a.set_grad(Tensor::from_vector(std::vector<float>{1.f, -1.f}, {2}));
  sgd.step();
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0.5f, 2.5f}));
  EXPECT_EQ(b.to_vector(), (std::vector<float>{3.f}));
  sgd.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  sgd.step();  // no gradients: nothing moves
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0.5f, 2.5f}));
}

TEST(Sgd, DoesNotModifyTheGradient) {
  Tensor p = param({1.f});
  SGD sgd({p}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f});
  p.set_grad(Tensor::from_vector(std::vector<float>{2.f}, {1}));
  sgd.step();
  sgd.step();
  EXPECT_EQ(p.grad().to_vector(), (std::vector<float>{2.f}));
}

TEST(Sgd, RefusesBadHyperParameters) {
  auto error_of = [](SgdOptions o, std::vector<Tensor> params) -> std::string {
    try {
      SGD sgd(std::move(params), o);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  Tensor p = param({1.f});
  EXPECT_THAT(error_of({.lr = -0.1f}, {p}), HasSubstr("lr must be a finite number >= 0, got -0.1"));
  EXPECT_THAT(error_of({.lr = std::nanf("")}, {p}), HasSubstr("lr"));
  EXPECT_THAT(error_of({.lr = INFINITY}, {p}), HasSubstr("lr"));
  EXPECT_THAT(error_of({.lr = 0.1f, .momentum = -0.5f}, {p}), HasSubstr("momentum"));
  EXPECT_THAT(error_of({.lr = 0.1f, .weight_decay = -1.f}, {p}), HasSubstr("weight_decay"));
  EXPECT_THAT(error_of({.lr = 0.1f, .nesterov = true}, {p}), HasSubstr("nesterov needs momentum"));
  EXPECT_THAT(error_of({.lr = 0.1f}, {Tensor::zeros({2})}), HasSubstr("does not require grad"));
  EXPECT_THAT(error_of({.lr = 0.1f}, {Tensor()}), HasSubstr("undefined"));
  SGD sgd({p}, {.lr = 0.1f});
  EXPECT_THROW(sgd.set_lr(-1.f), Error);
  EXPECT_THROW(sgd.set_lr(0, NAN), Error);
  EXPECT_THROW(sgd.set_lr(1, 0.1f), Error);  // no group 1
  EXPECT_THROW(sgd.scale_lr(-0.5), Error);
}

TEST(Sgd, RefusesAParameterGivenTwice) {
  Tensor a = param({1.f}), b = param({2.f});
  SGD sgd;
  sgd.add_param_group({a}, {.lr = 0.1f}, "first");
  try {
    sgd.add_param_group({b, a}, {.lr = 0.1f}, "second");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("parameter 1 of group 'second' (shape [1]) is already in group 'first'"));
  }
  EXPECT_THAT(
      [&] {
        sgd.add_param_group({b, b}, {.lr = 0.1f}, "third");
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("appears twice")));
  EXPECT_THAT([&] { sgd.add_param_group({b}, {.lr = 0.1f}, "first"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("a parameter group named 'first' already exists")));
  Tensor non_leaf;
  {
    Tensor x = param({1.f});
    non_leaf = mul(x, 2.f);
  }
  EXPECT_THAT([&] { sgd.add_param_group({non_leaf}, {.lr = 0.1f}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("is not a leaf")));
  EXPECT_EQ(sgd.num_groups(), 1u);  // failed additions leave nothing behind
}

TEST(Sgd, GroupNamesAndLearningRates) {
  Tensor a = param({1.f}), b = param({2.f}), c = param({3.f});
  SGD sgd;
  sgd.add_param_group({a, b}, {.lr = 0.1f, .momentum = 0.9f}, "weights");
  sgd.add_param_group({c}, {.lr = 0.01f});
  EXPECT_EQ(sgd.group_name(1), "group1");  // an empty name gives group<N>
  EXPECT_EQ(sgd.group_index("weights"), 0u);
  EXPECT_THAT(
      [&] { sgd.group_index("bn"); },
      ::testing::ThrowsMessage<Error>(HasSubstr("no parameter group named 'bn' (groups: 'weights', 'group1')")));
  EXPECT_EQ(sgd.params().size(), 3u);
  EXPECT_EQ(sgd.group_params(0).size(), 2u);

  sgd.scale_lr(0.5);  // lr = base_lr * factor
  EXPECT_FLOAT_EQ(sgd.lr(0), 0.05f);
  EXPECT_FLOAT_EQ(sgd.lr(1), 0.005f);
  EXPECT_FLOAT_EQ(sgd.base_lr(0), 0.1f);
  EXPECT_FLOAT_EQ(sgd.options(0).lr, 0.05f);
  EXPECT_FLOAT_EQ(sgd.options(0).momentum, 0.9f);
  sgd.set_lr(1, 0.2f);  // the current lr only
  EXPECT_FLOAT_EQ(sgd.lr(1), 0.2f);
  EXPECT_FLOAT_EQ(sgd.base_lr(1), 0.01f);
  sgd.set_base_lr(1, 0.04f);
  sgd.scale_lr(0.25);
  EXPECT_FLOAT_EQ(sgd.lr(1), 0.01f);
  sgd.set_lr(0.3f);  // every group
  EXPECT_FLOAT_EQ(sgd.lr(0), 0.3f);
  EXPECT_FLOAT_EQ(sgd.lr(1), 0.3f);

  // The step uses the current lr: p = 3 - 0.3 * 1.
  c.set_grad(Tensor::from_vector({1.f}, {1}));
  sgd.step();
  EXPECT_FLOAT_EQ(c.item(), 3.f - 0.3f);
}

}  // namespace
}  // namespace lowbit
