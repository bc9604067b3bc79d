// Tests for core/optim/clip.h and the optimizer's post-step hooks: clip_grad_norm against a
// float64 norm (below and above max_norm, parameters without a gradient, a gradient shared by two
// parameters, a non-finite norm), clip_weights at and beyond the bounds, and BinaryConnect's
// weight clip as a post-step hook, run after the update and in the order hooks were added.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/optim/clip.h"
#include "core/optim/sgd.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

Tensor param(const Shape& shape, Device device) {
  Tensor p = Tensor::zeros(shape, DType::f32, device);
  p.requires_grad_(true);
  return p;
}

double norm_of(const std::vector<ref::Arr>& grads) {
  double s = 0.0;
  for (const ref::Arr& g : grads)
    for (double v : g.v) s += v * v;
  return std::sqrt(s);
}

class ClipTest : public test::DeviceTest {};

TEST_P(ClipTest, GradNormAgainstFloat64) {
  const std::vector<Shape> shapes = {{3, 4}, {4}, {2, 3, 3, 1}};
  std::vector<Tensor> params;
  std::vector<ref::Arr> grads;
  for (size_t i = 0; i < shapes.size(); ++i) {
    params.push_back(param(shapes[i], device()));
    grads.push_back(test::random_arr(shapes[i], -2.0, 2.0, 100 + i));
    params.back().set_grad(test::from_ref(grads.back(), device()));
  }
  params.push_back(param({5}, device()));  // no gradient: counts as zero, stays without one
  const double want = norm_of(grads);

  // Below the threshold nothing changes.
  EXPECT_NEAR(clip_grad_norm(params, want + 1.0), want, 1e-9 * want);
  for (size_t i = 0; i < grads.size(); ++i) test::expect_close(grads[i], params[i].grad(), 0.0, 0.0, "unclipped");

  // Above it every gradient is scaled by max_norm / (norm + 1e-6).
  const double max_norm = 0.5;
  EXPECT_NEAR(clip_grad_norm(params, max_norm), want, 1e-9 * want);
  const double coef = max_norm / (want + 1e-6);
  std::vector<ref::Arr> scaled = grads;
  for (ref::Arr& g : scaled)
    for (double& v : g.v) v *= coef;
  for (size_t i = 0; i < grads.size(); ++i)
    test::expect_close(scaled[i], params[i].grad(), test::kForwardAtol, test::kForwardRtol, "clipped");
  EXPECT_FALSE(params.back().grad().defined());
  EXPECT_NEAR(clip_grad_norm(params, 100.0), max_norm, 1e-5);
}

LOWBIT_INSTANTIATE_DEVICES(ClipTest);

TEST(Clip, HandComputedNorm) {
  // Gradients (3, 4) and (12): norm sqrt(9 + 16 + 144) = 13; max_norm 6.5 halves them (up to 1e-6).
  Tensor a = param({2}, Device::cpu()), b = param({1}, Device::cpu());
  a.set_grad(Tensor::from_vector({3.f, 4.f}, {2}));
  b.set_grad(Tensor::from_vector({12.f}, {1}));
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b}, 6.5), 13.0);
  EXPECT_NEAR(a.grad().to_vector()[0], 1.5, 1e-6);
  EXPECT_NEAR(a.grad().to_vector()[1], 2.0, 1e-6);
  EXPECT_NEAR(b.grad().item(), 6.0, 1e-6);
}

TEST(Clip, SharedGradientIsScaledOnce) {
  Tensor a = param({2}, Device::cpu()), b = param({2}, Device::cpu());
  Tensor g = Tensor::from_vector({3.f, 4.f}, {2});
  a.set_grad(g);
  b.set_grad(g);  // one tensor, two parameters: norm sqrt(50)
  const double norm = clip_grad_norm({a, b}, 1.0);
  EXPECT_NEAR(norm, std::sqrt(50.0), 1e-12);
  const double coef = 1.0 / (std::sqrt(50.0) + 1e-6);
  EXPECT_NEAR(a.grad().to_vector()[1], 4.0 * coef, 1e-6);
  EXPECT_NEAR(b.grad().to_vector()[1], 4.0 * coef, 1e-6);
  EXPECT_EQ(g.to_vector(), (std::vector<float>{3.f, 4.f}));  // the original tensor is untouched
}

TEST(Clip, NonFiniteNormLeavesGradients) {
  Tensor a = param({2}, Device::cpu());
  a.set_grad(Tensor::from_vector({1.f, NAN}, {2}));
  EXPECT_TRUE(std::isnan(clip_grad_norm({a}, 1.0)));
  EXPECT_EQ(a.grad().to_vector()[0], 1.f);
  a.set_grad(Tensor::from_vector({INFINITY, 1.f}, {2}));
  EXPECT_TRUE(std::isinf(clip_grad_norm({a}, 1.0)));
  EXPECT_EQ(a.grad().to_vector()[1], 1.f);
  EXPECT_THAT([&] { clip_grad_norm({a}, 0.0); }, ::testing::ThrowsMessage<Error>(HasSubstr("max_norm must be")));
  EXPECT_THROW(clip_grad_norm({a}, NAN), Error);
}

TEST(Clip, ClipWeights) {
  Tensor w = Tensor::from_vector({-1.5f, -1.f, 0.3f, 1.f, 2.f, -0.f}, {2, 3});
  clip_weights({w}, -1.f, 1.f);
  EXPECT_EQ(w.to_vector(), (std::vector<float>{-1.f, -1.f, 0.3f, 1.f, 1.f, -0.f}));
  EXPECT_THAT([&] { clip_weights({w}, 1.f, -1.f); }, ::testing::ThrowsMessage<Error>(HasSubstr("lo must be <= hi")));
  EXPECT_THROW(clip_weights({w.transpose(0, 1)}, -1.f, 1.f), Error);  // not contiguous
  EXPECT_THROW(weight_clip_hook({w}, 2.f, 1.f), Error);
}

// BinaryConnect: SGD steps, then the real-valued weights are clipped to [-1, 1].
TEST(Clip, WeightClipHookRunsAfterEachStep) {
  Tensor w = Tensor::from_vector({0.95f, -0.5f, 0.f}, {3});
  w.requires_grad_(true);
  Tensor other = Tensor::from_vector({5.f}, {1});  // not clipped
  other.requires_grad_(true);
  SGD sgd({w, other}, {.lr = 0.1f});
  std::vector<std::string> order;
  std::vector<float> seen_by_first_hook;
  sgd.add_post_step_hook([&] {
    order.push_back("first");
    seen_by_first_hook = w.to_vector();
  });
  sgd.add_post_step_hook(weight_clip_hook({w}, -1.f, 1.f));
  sgd.add_post_step_hook([&] { order.push_back("third"); });

  w.set_grad(Tensor::from_vector({-1.f, 10.f, 0.5f}, {3}));
  other.set_grad(Tensor::from_vector({-1.f}, {1}));
  sgd.step();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "third"}));
  EXPECT_FLOAT_EQ(seen_by_first_hook[0], 1.05f);  // hooks run after the update
  EXPECT_EQ(w.to_vector(), (std::vector<float>{1.f, -1.f, -0.05f}));
  EXPECT_FLOAT_EQ(other.item(), 5.1f);
  sgd.step();  // same gradients: the clip holds at every step
  EXPECT_EQ(w.to_vector()[0], 1.f);
  EXPECT_EQ(w.to_vector()[1], -1.f);
  EXPECT_EQ(order.size(), 4u);
  EXPECT_THROW(sgd.add_post_step_hook(nullptr), Error);
}

}  // namespace
}  // namespace lowbit
