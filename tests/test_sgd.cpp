// Tests for core/optim/sgd.h: three steps of SGD (plain, momentum, weight decay, Nesterov)
// against float64 updates, literal hand-computed values, skipping of parameters without a
// gradient, zero_grad, and the refusal of bad hyper-parameters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/optim/sgd.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

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

Tensor param(const std::vector<float>& v) {
  Tensor p = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  p.requires_grad_(true);
  return p;
}

// Runs `grads.size()` steps of lowbit's SGD with the given gradients on p0.
std::vector<float> run_sgd(const std::vector<float>& p0, const std::vector<std::vector<double>>& grads,
                           const SgdOptions& o) {
  Tensor p = param(p0);
  SGD sgd({p}, o);
  for (const auto& g : grads) {
    sgd.zero_grad();
    p.set_grad(Tensor::from_vector(std::vector<float>(g.begin(), g.end()), p.shape()));
    sgd.step();
  }
  return p.to_vector();
}

struct SgdCase {
  const char* name;
  SgdOptions options;
};

TEST(Sgd, ThreeStepsMatchFloat64Reference) {
  const std::vector<float> p0 = {1.0f, -2.0f, 0.5f, 3.0f};
  const std::vector<std::vector<double>> grads = {
      {0.5, -1.0, 0.25, 2.0}, {-0.75, 0.5, 1.5, -1.0}, {0.125, 0.25, -0.5, 0.75}};
  const SgdCase cases[] = {
      {"plain", {.lr = 0.1f}},
      {"momentum", {.lr = 0.1f, .momentum = 0.9f}},
      {"weight decay", {.lr = 0.1f, .weight_decay = 0.01f}},
      {"momentum + weight decay", {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 5e-4f}},
      {"nesterov", {.lr = 0.1f, .momentum = 0.9f, .nesterov = true}},
      {"nesterov + weight decay", {.lr = 0.2f, .momentum = 0.5f, .nesterov = true, .weight_decay = 0.1f}},
  };
  for (const SgdCase& c : cases) {
    std::vector<float> got = run_sgd(p0, grads, c.options);
    std::vector<double> want = sgd_reference(std::vector<double>(p0.begin(), p0.end()), grads, c.options);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], test::kForwardAtol + test::kForwardRtol * std::abs(want[i]))
          << c.name << ", element " << i;
  }
}

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
}

}  // namespace
}  // namespace lowbit
