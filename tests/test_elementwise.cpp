// Elementwise op tests: every op of core/ops/elementwise.h through check_op against a float64
// formula written here (binary ops over broadcasting shapes), inputs kept away from kinks; then the
// exact mask conventions AT the kinks (relu'(0) = 0, clamp' = hardtanh' = 1 on the closed
// interval, abs'(0) = 0, sign' = 0), comparisons (u8 0/1, NaN), and the operand errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "tests/gradcheck.h"

namespace lowbit::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using F1 = std::function<double(double)>;
using F2 = std::function<double(double, double)>;

// Moves values within `margin` of a kink to kink ± margin (f32-representable), so central
// differences never straddle a kink.
ref::Arr away_from(ref::Arr a, const std::vector<double>& kinks, double margin = 0.05) {
  for (double& v : a.v) {
    for (double k : kinks)
      if (std::abs(v - k) < margin) v = v < k ? k - margin : k + margin;
    v = static_cast<double>(static_cast<float>(v));
  }
  return a;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// x read at the multi-index `idx` of a broadcast result (numpy rules).
double broadcast_read(const ref::Arr& x, const std::vector<int64_t>& idx) {
  std::vector<int64_t> j(idx.end() - ref::ndim(x), idx.end());
  for (size_t d = 0; d < j.size(); ++d)
    if (x.shape[d] == 1) j[d] = 0;
  return ref::at(x, j);
}

// Shapes of the two operands of every binary test: broadcasting both ways, rank extension,
// scalars.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {
    {{5}, {5}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{}, {2, 2}}, {{2, 2}, {}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 3}},
};

class Elementwise : public DeviceTest {
 protected:
  void unary(const std::function<Tensor(const Tensor&)>& op, const F1& f, const ref::Arr& x) {
    check_op([&](const std::vector<Tensor>& in) { return op(in[0]); },
             [&](const std::vector<ref::Arr>& in) { return ref::unary(in[0], f); }, {x}, device());
  }
  // Runs a binary op over every shape pair; `a_range`/`b_range` bound the random inputs.
  void binary(const std::function<Tensor(const Tensor&, const Tensor&)>& op, const F2& f,
              std::pair<double, double> a_range = {-2, 2}, std::pair<double, double> b_range = {-2, 2},
              const std::vector<double>& b_kinks = {}) {
    uint64_t seed = 10;
    for (const auto& [sa, sb] : kBinaryShapes) {
      SCOPED_TRACE(shape_str(sa) + " x " + shape_str(sb));
      ref::Arr a = random_arr(sa, a_range.first, a_range.second, seed++);
      ref::Arr b = away_from(random_arr(sb, b_range.first, b_range.second, seed++), b_kinks, 0.5);
      check_op([&](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
               [&](const std::vector<ref::Arr>& in) { return ref::binary(in[0], in[1], f); }, {a, b}, device());
    }
  }
  // Gradient of sum(op(x)) at x, i.e. op'(x) elementwise, with the forward value.
  std::pair<std::vector<float>, std::vector<float>> at(const std::function<Tensor(const Tensor&)>& op,
                                                       const std::vector<float>& x) {
    Tensor t = Tensor::from_vector(x, {static_cast<int64_t>(x.size())}, device());
    t.requires_grad_();
    Tensor y = op(t);
    sum(y).backward();
    return {y.to_vector(), t.grad().to_vector()};
  }
  ref::Arr arr(const Shape& shape, double lo, double hi, uint64_t seed = 1234) {
    return random_arr(shape, lo, hi, seed);
  }
};

// ------------------------------------------------------------------ binary ops with broadcasting

TEST_P(Elementwise, Add) { binary([](const Tensor& a, const Tensor& b) { return add(a, b); }, [](double a, double b) { return a + b; }); }
TEST_P(Elementwise, Sub) { binary([](const Tensor& a, const Tensor& b) { return sub(a, b); }, [](double a, double b) { return a - b; }); }
TEST_P(Elementwise, Mul) { binary([](const Tensor& a, const Tensor& b) { return mul(a, b); }, [](double a, double b) { return a * b; }); }
TEST_P(Elementwise, Div) {
  binary([](const Tensor& a, const Tensor& b) { return div(a, b); }, [](double a, double b) { return a / b; }, {-2, 2},
         {-2, 2}, {0.0});
}

TEST_P(Elementwise, Operators) {
  binary([](const Tensor& a, const Tensor& b) { return (a + b) * a - b / (b * b + 1.f); },
         [](double a, double b) { return (a + b) * a - b / (b * b + 1.0); });
  unary([](const Tensor& x) { return 2.f - x * 3.f + x / 4.f - (-x) + (1.f + x) * 0.5f - 1.f; },
        [](double x) { return 2 - x * 3 + x / 4 + x + (1 + x) * 0.5 - 1; }, arr({2, 3}, -2, 2));
}

TEST_P(Elementwise, ScalarAddMul) {
  unary([](const Tensor& x) { return add(x, 1.5f); }, [](double x) { return x + 1.5; }, arr({7}, -2, 2));
  unary([](const Tensor& x) { return mul(x, -3.f); }, [](double x) { return x * -3.0; }, arr({2, 3}, -2, 2));
}

TEST_P(Elementwise, BinaryWithOnlyOneInputRequiringGrad) {
  ref::Arr a = arr({3, 1}, -2, 2, 1), b = away_from(arr({1, 4}, -2, 2, 2), {0.0}, 0.5);
  CheckOptions only_b;
  only_b.differentiable = {false, true};
  check_op([](const std::vector<Tensor>& in) { return div(in[0], in[1]); },
           [](const std::vector<ref::Arr>& in) { return ref::binary(in[0], in[1], [](double x, double y) { return x / y; }); },
           {a, b}, device(), only_b);
  CheckOptions only_a;
  only_a.differentiable = {true, false};
  check_op([](const std::vector<Tensor>& in) { return mul(in[0], in[1]); },
           [](const std::vector<ref::Arr>& in) { return ref::binary(in[0], in[1], [](double x, double y) { return x * y; }); },
           {a, b}, device(), only_a);
}

// ------------------------------------------------------------------ unary ops (smooth regions)

TEST_P(Elementwise, Neg) { unary([](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, arr({3, 4}, -2, 2)); }
TEST_P(Elementwise, Exp) { unary([](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, arr({3, 4}, -2, 2)); }
TEST_P(Elementwise, Log) { unary([](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, arr({3, 4}, 0.2, 5)); }
TEST_P(Elementwise, Sqrt) { unary([](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, arr({3, 4}, 0.2, 5)); }
TEST_P(Elementwise, Tanh) { unary([](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, arr({3, 4}, -3, 3)); }
TEST_P(Elementwise, Sigmoid) { unary([](const Tensor& x) { return sigmoid(x); }, sigmoid_ref, arr({3, 4}, -6, 6)); }

TEST_P(Elementwise, Pow) {
  for (float e : {2.f, 3.f, 0.f, 1.f}) {
    SCOPED_TRACE(e);
    unary([e](const Tensor& x) { return pow(x, e); }, [e](double x) { return std::pow(x, double(e)); }, arr({2, 5}, -1.5, 1.5));
  }
  for (float e : {0.5f, -1.f, -2.5f, 1.7f}) {  // fractional/negative exponents on positive inputs
    SCOPED_TRACE(e);
    unary([e](const Tensor& x) { return pow(x, e); }, [e](double x) { return std::pow(x, double(e)); }, arr({2, 5}, 0.3, 2));
  }
}

TEST_P(Elementwise, Abs) {
  unary([](const Tensor& x) { return abs(x); }, [](double x) { return std::abs(x); }, away_from(arr({3, 4}, -2, 2), {0.0}));
}

TEST_P(Elementwise, Sign) {
  unary([](const Tensor& x) { return sign(x); }, [](double x) { return double((x > 0) - (x < 0)); },
        away_from(arr({3, 4}, -2, 2), {0.0}));
}

TEST_P(Elementwise, Relu) {
  unary([](const Tensor& x) { return relu(x); }, [](double x) { return x > 0 ? x : 0.0; }, away_from(arr({4, 5}, -2, 2), {0.0}));
}

TEST_P(Elementwise, Clamp) {
  unary([](const Tensor& x) { return clamp(x, -0.5f, 0.75f); }, [](double x) { return std::min(std::max(x, -0.5), 0.75); },
        away_from(arr({4, 5}, -2, 2), {-0.5, 0.75}));
}

TEST_P(Elementwise, Hardtanh) {
  unary([](const Tensor& x) { return hardtanh(x); }, [](double x) { return std::min(std::max(x, -1.0), 1.0); },
        away_from(arr({4, 5}, -2, 2), {-1.0, 1.0}));
  unary([](const Tensor& x) { return hardtanh(x, -0.25f, 0.5f); }, [](double x) { return std::min(std::max(x, -0.25), 0.5); },
        away_from(arr({4, 5}, -1, 1, 77), {-0.25, 0.5}));
}

TEST_P(Elementwise, Where) {
  // cond = (c > 0) from a non-differentiable input; cond, a and b broadcast together.
  CheckOptions opt;
  opt.differentiable = {false, true, true};
  auto op = [](const std::vector<Tensor>& in) {
    Tensor zero = Tensor::zeros({}, DType::f32, in[0].device());
    return where(gt(in[0], zero), in[1], in[2]);
  };
  auto reference = [](const std::vector<ref::Arr>& in) {
    ref::Arr out = ref::make(ref::broadcast_shape(ref::broadcast_shape(in[0].shape, in[1].shape), in[2].shape));
    for (int64_t i = 0; i < ref::numel(out); ++i) {
      std::vector<int64_t> idx = ref::unravel(out.shape, i);
      out.v[static_cast<size_t>(i)] =
          broadcast_read(in[0], idx) > 0 ? broadcast_read(in[1], idx) : broadcast_read(in[2], idx);
    }
    return out;
  };
  check_op(op, reference, {arr({3, 4}, -1, 1, 5), arr({3, 4}, -2, 2, 6), arr({3, 4}, -2, 2, 7)}, device(), opt);
  check_op(op, reference, {arr({3, 1}, -1, 1, 8), arr({1, 4}, -2, 2, 9), arr({}, -2, 2, 10)}, device(), opt);
  check_op(op, reference, {arr({4}, -1, 1, 11), arr({2, 3, 1}, -2, 2, 12), arr({3, 4}, -2, 2, 13)}, device(), opt);
}

TEST_P(Elementwise, StridedInputs) {
  ref::Arr x = arr({4, 3}, -2, 2, 21), y = arr({3, 5}, -2, 2, 22);
  check_op([](const std::vector<Tensor>& in) { return mul(in[0].transpose(0, 1), exp(in[1].slice(1, 1, 5))); },
           [](const std::vector<ref::Arr>& in) {
             return ref::binary(ref::permute(in[0], {1, 0}), ref::slice(in[1], 1, 1, 5),
                                [](double a, double b) { return a * std::exp(b); });
           },
           {x, y}, device());
}

// ------------------------------------------------------------------ exact conventions at the kinks

TEST_P(Elementwise, ReluAtZero) {
  auto [y, g] = at([](const Tensor& x) { return relu(x); }, {-1.f, -0.f, 0.f, 1e-30f, 2.f});
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 1e-30f, 2}));
  EXPECT_EQ(g, (std::vector<float>{0, 0, 0, 1, 1}));
}

TEST_P(Elementwise, ClampAtTheBounds) {
  auto [y, g] = at([](const Tensor& x) { return clamp(x, -0.5f, 0.5f); }, {-0.6f, -0.5f, 0.f, 0.5f, 0.6f});
  EXPECT_EQ(y, (std::vector<float>{-0.5f, -0.5f, 0, 0.5f, 0.5f}));
  EXPECT_EQ(g, (std::vector<float>{0, 1, 1, 1, 0}));
  auto [y2, g2] = at([](const Tensor& x) { return clamp(x, 2.f, 2.f); }, {1.f, 2.f, 3.f});  // lo == hi
  EXPECT_EQ(y2, (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(g2, (std::vector<float>{0, 1, 0}));
}

TEST_P(Elementwise, HardtanhAtPlusMinusOne) {
  auto [y, g] = at([](const Tensor& x) { return hardtanh(x); }, {-1.5f, -1.f, -0.999f, 0.3f, 1.f, 1.0001f});
  EXPECT_EQ(y, (std::vector<float>{-1, -1, -0.999f, 0.3f, 1, 1}));
  EXPECT_EQ(g, (std::vector<float>{0, 1, 1, 1, 1, 0}));
}

TEST_P(Elementwise, AbsAndSignAtZero) {
  auto [y, g] = at([](const Tensor& x) { return abs(x); }, {-2.f, 0.f, -0.f, 3.f});
  EXPECT_EQ(y, (std::vector<float>{2, 0, 0, 3}));
  EXPECT_EQ(g, (std::vector<float>{-1, 0, 0, 1}));
  auto [ys, gs] = at([](const Tensor& x) { return sign(x); }, {-3.f, 0.f, -0.f, 2.f});
  EXPECT_EQ(ys, (std::vector<float>{-1, 0, 0, 1}));
  EXPECT_EQ(gs, (std::vector<float>{0, 0, 0, 0}));
}

TEST_P(Elementwise, WhereRoutesGradientByTheMask) {
  Tensor c = Tensor::from_vector(std::vector<uint8_t>{1, 0, 2, 0}, {4}, device());
  Tensor a = Tensor::from_vector({1.f, 2.f, 3.f, 4.f}, {4}, device());
  Tensor b = Tensor::from_vector({-1.f}, {}, device());
  a.requires_grad_();
  b.requires_grad_();
  Tensor y = where(c, a, b);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, -1, 3, -1}));
  sum(y).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{1, 0, 1, 0}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{2}));
}

TEST_P(Elementwise, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = Tensor::from_vector({0.f, -inf, inf, 100.f, -100.f}, {5}, device());
  std::vector<float> e = exp(x).to_vector();
  EXPECT_EQ(std::vector<float>(e.begin(), e.begin() + 4), (std::vector<float>{1, 0, inf, inf}));
  EXPECT_EQ(sigmoid(x).to_vector(), (std::vector<float>{0.5f, 0, 1, 1, 0}));  // no NaN from inf/inf
  EXPECT_EQ(tanh(x).to_vector(), (std::vector<float>{0, -1, 1, 1, -1}));
  std::vector<float> l = log(Tensor::from_vector({0.f, 1.f, -1.f}, {3}, device())).to_vector();
  EXPECT_EQ(l[0], -inf);
  EXPECT_EQ(l[1], 0.f);
  EXPECT_TRUE(std::isnan(l[2]));
}

// ------------------------------------------------------------------ comparisons

TEST_P(Elementwise, ComparisonsReturnU8ZeroOne) {
  const float nan = std::nanf("");
  ref::Arr a = ref::from({3, 1}, {1, 2, nan}), b = ref::from({1, 4}, {0, 1, 2, 3});
  Tensor ta = from_ref(a, device()), tb = from_ref(b, device());
  ta.requires_grad_();
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> op;
    F2 f;
  };
  const std::vector<Case> cases = {
      {"gt", [](const Tensor& x, const Tensor& y) { return gt(x, y); }, [](double x, double y) { return double(x > y); }},
      {"lt", [](const Tensor& x, const Tensor& y) { return lt(x, y); }, [](double x, double y) { return double(x < y); }},
      {"ge", [](const Tensor& x, const Tensor& y) { return ge(x, y); }, [](double x, double y) { return double(x >= y); }},
      {"le", [](const Tensor& x, const Tensor& y) { return le(x, y); }, [](double x, double y) { return double(x <= y); }},
      {"eq", [](const Tensor& x, const Tensor& y) { return eq(x, y); }, [](double x, double y) { return double(x == y); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor out = c.op(ta, tb);
    EXPECT_EQ(out.dtype(), DType::u8);
    EXPECT_EQ(out.shape(), (Shape{3, 4}));
    EXPECT_FALSE(out.requires_grad());
    std::vector<uint8_t> got = out.to_host<uint8_t>();
    ref::Arr want = ref::binary(a, b, c.f);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<uint8_t>(want.v[i])) << "element " << i;
  }
  // NaN compares false everywhere (row 2).
  std::vector<uint8_t> ge_row = ge(ta, tb).slice(0, 2, 3).contiguous().to_host<uint8_t>();
  EXPECT_EQ(ge_row, (std::vector<uint8_t>{0, 0, 0, 0}));
  EXPECT_EQ(eq(tb, tb).to_host<uint8_t>(), (std::vector<uint8_t>{1, 1, 1, 1}));
}

// ------------------------------------------------------------------ errors

TEST_P(Elementwise, DtypeMismatchNamesBothOperands) {
  Tensor f = Tensor::zeros({2, 3}, DType::f32, device());
  Tensor i = Tensor::zeros({3}, DType::i32, device());
  EXPECT_THAT([&] { add(f, i); },
              ThrowsMessage<Error>(AllOf(HasSubstr("add"), HasSubstr("f32 [2, 3]"), HasSubstr("i32 [3]"))));
  EXPECT_THAT([&] { mul(i, f); },
              ThrowsMessage<Error>(AllOf(HasSubstr("mul"), HasSubstr("i32 [3]"), HasSubstr("f32 [2, 3]"))));
  EXPECT_THAT([&] { gt(f, i); }, ThrowsMessage<Error>(AllOf(HasSubstr("gt"), HasSubstr("i32 [3]"))));
  EXPECT_THAT([&] { exp(i); }, ThrowsMessage<Error>(AllOf(HasSubstr("exp"), HasSubstr("i32"), HasSubstr("[3]"))));
  Tensor c = Tensor::zeros({3}, DType::u8, device());
  EXPECT_THAT([&] { where(c, f, i); }, ThrowsMessage<Error>(AllOf(HasSubstr("where"), HasSubstr("i32 [3]"))));
  EXPECT_THAT([&] { where(f, f, f); }, ThrowsMessage<Error>(AllOf(HasSubstr("where"), HasSubstr("cond"), HasSubstr("u8"))));
}

TEST_P(Elementwise, ShapeMismatchNamesBothOperands) {
  Tensor a = Tensor::zeros({2, 3}, DType::f32, device());
  Tensor b = Tensor::zeros({4}, DType::f32, device());
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  for (Binary op : std::vector<Binary>{add, sub, mul, div}) {
    EXPECT_THAT([&] { op(a, b); }, ThrowsMessage<Error>(AllOf(HasSubstr("[2, 3]"), HasSubstr("[4]"), HasSubstr("broadcast"))));
  }
  EXPECT_THAT([&] { sub(a, b); }, ThrowsMessage<Error>(HasSubstr("sub:")));
  EXPECT_THAT([&] { eq(a, b); }, ThrowsMessage<Error>(AllOf(HasSubstr("eq"), HasSubstr("[2, 3]"), HasSubstr("[4]"))));
  EXPECT_THAT([&] { clamp(a, 1.f, -1.f); }, ThrowsMessage<Error>(HasSubstr("clamp")));
  EXPECT_THAT([&] { hardtanh(a, 1.f, -1.f); }, ThrowsMessage<Error>(HasSubstr("hardtanh")));
}

TEST_P(Elementwise, DeviceMismatchNamesBothDevices) {
  if (!cuda_available()) GTEST_SKIP() << "needs a second device";
  Device other = device().is_cpu() ? Device::cuda() : Device::cpu();
  Tensor a = Tensor::zeros({2}, DType::f32, device());
  Tensor b = Tensor::zeros({2}, DType::f32, other);
  EXPECT_THAT([&] { add(a, b); }, ThrowsMessage<Error>(AllOf(HasSubstr("add"), HasSubstr("cpu"), HasSubstr("cuda:0"))));
  EXPECT_THAT([&] { lt(b, a); }, ThrowsMessage<Error>(AllOf(HasSubstr("lt"), HasSubstr("cpu"), HasSubstr("cuda:0"))));
}

LOWBIT_INSTANTIATE_DEVICES(Elementwise);

}  // namespace
}  // namespace lowbit::test
