// Autograd engine tests: leaf gradients accumulate across backward calls, zero_grad, shared
// sub-expressions, explicit output gradients, retain_graph, grad mode (NoGradGuard), detach, and
// the error messages for every misuse the engine refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class Autograd : public DeviceTest {
 protected:
  Tensor leaf(const std::vector<float>& v) const {
    Tensor t = Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, device());
    t.requires_grad_();
    return t;
  }
  Tensor values(const std::vector<float>& v) const {
    return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, device());
  }
};

TEST_P(Autograd, LeafAndRecordedTensors) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  EXPECT_FALSE(x.grad().defined());
  Tensor y = mul(x, 2.f);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "mul_scalar");
  Tensor c = values({1, 2});
  EXPECT_FALSE(add(c, c).requires_grad());
  EXPECT_EQ(add(c, c).grad_fn(), nullptr);
}

TEST_P(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, 2, 3});
  sum(mul(x, x)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 4, 6}));
  sum(mul(x, 3.f)).backward();  // a new graph on the same leaf: += 3
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{5, 7, 9}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 1, 1}));
}

TEST_P(Autograd, LeafGradIsItsOwnStorage) {
  Tensor x = leaf({1, 2});
  Tensor g = values({5, 6});
  x.backward(g);  // backward on a leaf: grad = g, copied
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{5, 6}));
  EXPECT_NE(x.grad().storage(), g.storage());
  x.backward(g);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{10, 12}));
  EXPECT_EQ(g.to_vector(), (std::vector<float>{5, 6})) << "accumulation must not write into the caller's gradient";
}

TEST_P(Autograd, SharedSubExpressionGradientsAdd) {
  Tensor x = leaf({0.5f, -1.f, 2.f});
  Tensor h = mul(x, x);           // used twice below
  Tensor z = sum(add(mul(h, h), h));  // x^4 + x^2 -> 4x^3 + 2x
  z.backward();
  std::vector<float> g = x.grad().to_vector();
  EXPECT_FLOAT_EQ(g[0], 4 * 0.125f + 1.f);
  EXPECT_FLOAT_EQ(g[1], -4.f - 2.f);
  EXPECT_FLOAT_EQ(g[2], 32.f + 4.f);

  Tensor a = leaf({3, 4});
  sum(add(a, a)).backward();  // the same tensor as both inputs
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{2, 2}));
}

TEST_P(Autograd, DiamondThroughBroadcast) {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3, 1}, device());
  x.requires_grad_();
  Tensor w = Tensor::from_vector({1, 10}, {1, 2}, device());
  Tensor y = mul(x, w);  // [3, 2]
  Tensor z = sum(sub(y, x));  // x reaches z twice, both broadcast
  z.backward();
  EXPECT_EQ(x.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{9, 9, 9}));  // (1 + 10) - 2
  EXPECT_FALSE(w.grad().defined()) << "a tensor that does not require grad gets none";
  EXPECT_FALSE(y.grad().defined()) << "non-leaf gradients are not kept";
}

TEST_P(Autograd, BackwardWithExplicitGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul(x, x);
  y.backward(values({1, 0.5f, -2}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 2, -12}));
}

TEST_P(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = leaf({1, 2});
  Tensor y = sum(mul(x, x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8}));
}

TEST_P(Autograd, SecondBackwardThroughAFreedGraphIsRefused) {
  Tensor x = leaf({1, 2});
  Tensor y = sum(mul(x, x));
  y.backward();
  EXPECT_THAT([&] { y.backward(); },
              ThrowsMessage<Error>(AllOf(HasSubstr("second time"), HasSubstr("retain_graph"))));
}

TEST_P(Autograd, BackwardOnATensorWithoutGradIsRefused) {
  Tensor c = values({1, 2});
  EXPECT_THAT([&] { sum(c).backward(); }, ThrowsMessage<Error>(HasSubstr("does not require grad")));
  Tensor x = leaf({1, 2});
  Tensor y;
  {
    NoGradGuard guard;
    y = sum(mul(x, x));
  }
  EXPECT_THAT([&] { y.backward(); }, ThrowsMessage<Error>(HasSubstr("does not require grad")));
}

TEST_P(Autograd, NonScalarBackwardNeedsAGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul(x, 2.f);
  EXPECT_THAT([&] { y.backward(); },
              ThrowsMessage<Error>(AllOf(HasSubstr("one-element"), HasSubstr("[3]"), HasSubstr("gradient"))));
  EXPECT_THAT([&] { y.backward(values({1, 2})); },
              ThrowsMessage<Error>(AllOf(HasSubstr("[2]"), HasSubstr("[3]"))));
  // A one-element non-scalar output takes the implicit gradient 1.
  Tensor x1 = Tensor::from_vector({3.f}, {1, 1}, device());
  x1.requires_grad_();
  mul(x1, x1).backward();
  EXPECT_EQ(x1.grad().to_vector(), (std::vector<float>{6}));
}

TEST_P(Autograd, InPlaceUpdateOfALeafThatRequiresGradIsRefused) {
  Tensor x = leaf({1, 2});
  EXPECT_THAT([&] { x.fill_(0.f); }, ThrowsMessage<Error>(AllOf(HasSubstr("in-place"), HasSubstr("NoGradGuard"))));
  EXPECT_THAT([&] { x.add_(values({1, 1})); }, ThrowsMessage<Error>(HasSubstr("add_")));
  EXPECT_THAT([&] { x.mul_(2.f); }, ThrowsMessage<Error>(HasSubstr("mul_")));
  EXPECT_THAT([&] { x.copy_(values({1, 1})); }, ThrowsMessage<Error>(HasSubstr("copy_")));
  {
    NoGradGuard guard;  // an optimizer step
    x.add_(values({1, 1}), -0.5f);
  }
  EXPECT_EQ(x.to_vector(), (std::vector<float>{0.5f, 1.5f}));
  x.detach().fill_(4.f);  // writes the shared storage
  EXPECT_EQ(x.to_vector(), (std::vector<float>{4, 4}));
  EXPECT_TRUE(x.requires_grad());
}

TEST_P(Autograd, NoGradGuardStopsRecordingAndRestores) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE(grad_enabled());
  {
    NoGradGuard outer;
    EXPECT_FALSE(grad_enabled());
    Tensor y = mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      NoGradGuard inner;
      EXPECT_FALSE(grad_enabled());
    }
    EXPECT_FALSE(grad_enabled()) << "the inner guard restores the outer state";
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_TRUE(mul(x, x).requires_grad());
}

TEST_P(Autograd, DetachCutsHistory) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul(x, x);
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_EQ(d.storage(), y.storage());
  sum(mul(d, x)).backward();  // gradient flows only through the second factor: d = x^2
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 4, 9}));
}

TEST_P(Autograd, RequiresGradOnlyOnFloatLeaves) {
  Tensor x = leaf({1, 2});
  Tensor y = mul(x, x);
  EXPECT_THAT([&] { y.requires_grad_(); }, ThrowsMessage<Error>(AllOf(HasSubstr("leaf"), HasSubstr("detach"))));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{1}, {1}, device());
  EXPECT_THAT([&] { i.requires_grad_(); }, ThrowsMessage<Error>(AllOf(HasSubstr("float"), HasSubstr("i32"))));
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
  EXPECT_FALSE(mul(x, x).requires_grad());
}

TEST_P(Autograd, GradientFlowsThroughDtypeCasts) {
  Tensor x = leaf({1.5f, -2.f});
  sum(mul(x.to(DType::f16).to(DType::f32), 3.f)).backward();
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{3, 3}));

  // A f16 leaf receives its (f32-accumulated) gradient in its own dtype.
  Tensor h = Tensor::from_vector({1.f, 2.f}, {2}, device()).to(DType::f16);
  h.requires_grad_();
  sum(mul(h.to(DType::f32), 0.5f)).backward();
  sum(mul(h.to(DType::f32), 0.25f)).backward();
  EXPECT_EQ(h.grad().dtype(), DType::f16);
  EXPECT_EQ(h.grad().to_vector(), (std::vector<float>{0.75f, 0.75f}));
}

TEST_P(Autograd, SetGradChecksTheShape) {
  Tensor x = leaf({1, 2});
  EXPECT_THAT([&] { x.set_grad(values({1, 2, 3})); }, ThrowsMessage<Error>(AllOf(HasSubstr("[3]"), HasSubstr("[2]"))));
  x.set_grad(values({1, 1}));
  sum(x).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 2}));
}

LOWBIT_INSTANTIATE_DEVICES(Autograd);

}  // namespace
}  // namespace lowbit::test
