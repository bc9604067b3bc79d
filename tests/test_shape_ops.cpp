// Tests for pad and cat (core/ops/shape.h): forward and gradients (slices of the output
// gradient) against ref::pad / ref::cat over ranks, axes and amounts; other dtypes; errors that
// name the offending argument.
#include <gtest/gtest.h>

#include "core/ops/shape.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

using Pads = std::vector<std::pair<int64_t, int64_t>>;

class ShapeOpsTest : public DeviceTest {};

void expect_error_mentions(const std::function<void()>& fn, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown; expected one mentioning '" << text << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST_P(ShapeOpsTest, PadMatchesReference) {
  struct Case {
    Shape shape;
    Pads pads;
    float value;
  };
  const std::vector<Case> cases = {
      {{5}, {{2, 3}}, 0.f},
      {{3, 4}, {{0, 0}, {1, 2}}, -1.5f},
      {{2, 3, 3, 4}, {{0, 0}, {0, 0}, {0, 0}, {2, 2}}, 0.f},  // ResNet option-A: zero channels
      {{2, 3, 2, 3}, {{1, 0}, {0, 2}, {1, 1}, {0, 1}}, 0.25f},
      {{2, 2}, {{0, 0}, {0, 0}}, 7.f},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shape));
    check_op([&](const std::vector<Tensor>& in) { return pad(in[0], c.pads, c.value); },
             [&](const std::vector<ref::Arr>& in) { return ref::pad(in[0], c.pads, c.value); },
             {random_arr(c.shape, -1, 1, 41)}, device());
  }
}

TEST_P(ShapeOpsTest, PadOtherDtypesAndViews) {
  Tensor x = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4}, {2, 2}, device());
  Tensor y = pad(x, {{1, 0}, {0, 1}}, 9.f);
  EXPECT_EQ(y.dtype(), DType::i32);
  EXPECT_EQ(y.to_host<int32_t>(), (std::vector<int32_t>{9, 9, 9, 1, 2, 9, 3, 4, 9}));
  // A non-contiguous view pads like its contiguous copy.
  ref::Arr a = random_arr({3, 4}, -1, 1, 42);
  Tensor t = from_ref(a, device()).transpose(0, 1);
  expect_close(ref::pad(ref::permute(a, {1, 0}), {{1, 1}, {0, 2}}, 0.0), pad(t, {{1, 1}, {0, 2}}));
}

TEST_P(ShapeOpsTest, PadErrors) {
  Tensor x = Tensor::ones({2, 3}, DType::f32, device());
  expect_error_mentions([&] { pad(x, {{0, 0}, {-1, 0}}); }, "negative padding");
  expect_error_mentions([&] { pad(x, {{0, 0}}); }, "one (before, after) pair per axis");
}

TEST_P(ShapeOpsTest, CatMatchesReference) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{{2}, {3}}, 0},
      {{{2, 3}, {4, 3}, {1, 3}}, 0},
      {{{2, 3}, {2, 1}}, 1},
      {{{2, 2, 2, 3}, {2, 2, 2, 5}}, -1},  // channels of NHWC images
      {{{1, 3, 2, 2}, {1, 1, 2, 2}, {1, 2, 2, 2}}, 1},
      {{{2, 3}, {0, 3}, {1, 3}}, 0},  // an empty piece
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " first " + shape_str(c.shapes[0]));
    std::vector<ref::Arr> in;
    for (size_t i = 0; i < c.shapes.size(); ++i) in.push_back(random_arr(c.shapes[i], -1, 1, 43 + i));
    int64_t axis = c.axis;
    check_op([axis](const std::vector<Tensor>& xs) { return cat(xs, axis); },
             [axis](const std::vector<ref::Arr>& xs) { return ref::cat(xs, axis); }, in, device());
  }
}

TEST_P(ShapeOpsTest, CatGradientOnlyWhereWanted) {
  CheckOptions opt;
  opt.differentiable = {false, true, false};
  check_op([](const std::vector<Tensor>& xs) { return cat(xs, 1); },
           [](const std::vector<ref::Arr>& xs) { return ref::cat(xs, 1); },
           {random_arr({2, 1, 3}, -1, 1, 50), random_arr({2, 2, 3}, -1, 1, 51), random_arr({2, 3, 3}, -1, 1, 52)},
           device(), opt);
}

TEST_P(ShapeOpsTest, CatOtherDtypesAndViews) {
  Tensor a = Tensor::from_vector(std::vector<int32_t>{1, 2}, {2, 1}, device());
  Tensor b = Tensor::from_vector(std::vector<int32_t>{3, 4, 5, 6}, {2, 2}, device());
  EXPECT_EQ(cat({a, b}, 1).to_host<int32_t>(), (std::vector<int32_t>{1, 3, 4, 2, 5, 6}));
  ref::Arr x = random_arr({3, 2}, -1, 1, 53), y = random_arr({2, 2}, -1, 1, 54);
  Tensor xt = from_ref(x, device()).transpose(0, 1);  // [2, 3] view
  expect_close(ref::cat({ref::permute(x, {1, 0}), y}, 1), cat({xt, from_ref(y, device())}, 1));
}

TEST_P(ShapeOpsTest, CatErrors) {
  Device d = device();
  Tensor f23 = Tensor::ones({2, 3}, DType::f32, d);
  expect_error_mentions([&] { cat({f23, Tensor::ones({2, 3}, DType::i32, d)}, 0); }, "tensor 1 has dtype i32");
  expect_error_mentions([&] { cat({f23, Tensor::ones({2, 3, 1}, DType::f32, d)}, 0); }, "tensor 1 has rank 3");
  expect_error_mentions([&] { cat({f23, f23, Tensor::ones({2, 4}, DType::f32, d)}, 0); },
                        "tensor 2 has shape [2, 4]");
  expect_error_mentions([&] { cat({}, 0); }, "at least one tensor");
  EXPECT_THROW(cat({f23, f23}, 2), Error);
  EXPECT_THROW(cat({Tensor::ones({}, DType::f32, d)}, 0), Error);
}

LOWBIT_INSTANTIATE_DEVICES(ShapeOpsTest);

}  // namespace
}  // namespace lowbit::test
