// View tests: view/reshape (-1 inference, errors), permute/transpose and slice (values against the
// float64 references, shared storage), contiguous() of strided views, squeeze/unsqueeze/flatten,
// and gradients through every view by check_op.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/gradcheck.h"

namespace lowbit::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class Views : public DeviceTest {
 protected:
  // 0, 1, 2, ... as f32 in `shape`.
  Tensor iota(const Shape& shape) const {
    return Tensor::arange(0, static_cast<double>(shape_numel(shape)), 1, DType::f32, device()).reshape(shape);
  }
  static ref::Arr iota_ref(const Shape& shape) {
    ref::Arr a = ref::make(shape);
    for (size_t i = 0; i < a.v.size(); ++i) a.v[i] = static_cast<double>(i);
    return a;
  }
};
class ViewGrads : public DeviceTest {};

// ------------------------------------------------------------------ view / reshape

TEST_P(Views, ViewInfersOneDimension) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.view({-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(x.view({2, -1}).shape(), (Shape{2, 12}));
  EXPECT_EQ(x.view({-1}).shape(), (Shape{24}));
  EXPECT_EQ(x.view({4, 1, -1, 2}).shape(), (Shape{4, 1, 3, 2}));
  EXPECT_EQ(x.view({24}).to_vector(), x.to_vector());
  EXPECT_EQ(Tensor::zeros({0, 3}, DType::f32, device()).view({-1, 3}).shape(), (Shape{0, 3}));
  EXPECT_EQ(Tensor::zeros({1}, DType::f32, device()).view({}).shape(), Shape{});
}

TEST_P(Views, ViewSharesStorage) {
  Tensor x = iota({2, 3});
  Tensor v = x.view({3, 2});
  EXPECT_EQ(v.storage(), x.storage());
  v.fill_(7.f);
  EXPECT_EQ(x.to_vector(), std::vector<float>(6, 7.f));
}

TEST_P(Views, ViewErrorsNameTheShapes) {
  Tensor x = iota({2, 3, 4});
  EXPECT_THAT([&] { x.view({-1, -1}); }, ThrowsMessage<Error>(HasSubstr("more than one -1")));
  EXPECT_THAT([&] { x.view({5, -1}); }, ThrowsMessage<Error>(AllOf(HasSubstr("[2, 3, 4]"), HasSubstr("[5, -1]"))));
  EXPECT_THAT([&] { x.view({5, 5}); }, ThrowsMessage<Error>(AllOf(HasSubstr("24 elements"), HasSubstr("[5, 5]"))));
  EXPECT_THAT([&] { x.view({-2, 12}); }, ThrowsMessage<Error>(HasSubstr("negative dimension")));
  EXPECT_THAT([&] { x.transpose(0, 2).view({24}); }, ThrowsMessage<Error>(AllOf(HasSubstr("contiguous"), HasSubstr("reshape"))));
  EXPECT_THAT([&] { x.reshape({7, -1}); }, ThrowsMessage<Error>(HasSubstr("cannot reshape")));
}

TEST_P(Views, ReshapeOfAStridedTensorCopies) {
  Tensor x = iota({2, 3});
  Tensor t = x.transpose(0, 1);  // [[0,3],[1,4],[2,5]]
  Tensor r = t.reshape({-1});
  EXPECT_EQ(r.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_NE(r.storage(), x.storage());
  Tensor same = x.reshape({3, 2});  // contiguous: a view
  EXPECT_EQ(same.storage(), x.storage());
}

// ------------------------------------------------------------------ permute / transpose

TEST_P(Views, PermuteMatchesReferenceAndSharesStorage) {
  Tensor x = iota({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.storage(), x.storage());
  EXPECT_EQ(to_ref(p).v, ref::permute(iota_ref({2, 3, 4}), {2, 0, 1}).v);
  EXPECT_EQ(to_ref(x.permute({-1, 1, 0})).v, ref::permute(iota_ref({2, 3, 4}), {2, 1, 0}).v);

  // Writing through the view writes the base.
  p.slice(0, 1, 2).fill_(-1.f);  // x[..., 1]
  std::vector<float> xv = x.to_vector();
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(xv[i], i % 4 == 1 ? -1.f : static_cast<float>(i)) << i;
}

TEST_P(Views, TransposeValues) {
  Tensor x = iota({2, 3});
  Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_EQ(x.transpose(-1, 0).to_vector(), t.to_vector());
  EXPECT_EQ(to_ref(iota({2, 3, 4}).transpose(0, 2)).v, ref::permute(iota_ref({2, 3, 4}), {2, 1, 0}).v);
}

TEST_P(Views, PermuteErrors) {
  Tensor x = iota({2, 3, 4});
  EXPECT_THAT([&] { x.permute({0, 1}); }, ThrowsMessage<Error>(AllOf(HasSubstr("2 axes"), HasSubstr("rank 3"))));
  EXPECT_THAT([&] { x.permute({0, 1, 1}); }, ThrowsMessage<Error>(HasSubstr("appears twice")));
  EXPECT_THAT([&] { x.permute({0, 1, 3}); }, ThrowsMessage<Error>(HasSubstr("out of range")));
  EXPECT_THAT([&] { x.transpose(0, 5); }, ThrowsMessage<Error>(HasSubstr("transpose")));
}

// ------------------------------------------------------------------ slice

TEST_P(Views, SliceWithStepsAndNegativeIndices) {
  const Shape shape{4, 7};
  Tensor x = iota(shape);
  ref::Arr xr = iota_ref(shape);
  struct Case {
    int64_t axis, start, stop, step;
  };
  for (Case c : {Case{1, 0, 7, 2}, Case{1, 1, 7, 3}, Case{1, -3, -1, 1}, Case{1, -5, 7, 2}, Case{0, 1, 100, 1},
                 Case{-1, -100, 3, 1}, Case{0, 0, 4, 4}, Case{1, 5, 2, 1}, Case{-2, -1, 4, 1}}) {
    Tensor s = x.slice(c.axis, c.start, c.stop, c.step);
    ref::Arr want = ref::slice(xr, c.axis, c.start, c.stop, c.step);
    EXPECT_EQ(s.shape(), want.shape) << c.axis << " " << c.start << ":" << c.stop << ":" << c.step;
    EXPECT_EQ(to_ref(s).v, want.v) << c.axis << " " << c.start << ":" << c.stop << ":" << c.step;
    EXPECT_EQ(s.storage(), x.storage());
  }
  EXPECT_EQ(x.slice(1, 5, 2).numel(), 0);
  EXPECT_THAT([&] { x.slice(1, 0, 7, 0); }, ThrowsMessage<Error>(HasSubstr("step must be positive")));
  EXPECT_THAT([&] { x.slice(1, 7, 0, -1); }, ThrowsMessage<Error>(HasSubstr("step must be positive")));
  EXPECT_THAT([&] { x.slice(2, 0, 1); }, ThrowsMessage<Error>(HasSubstr("slice")));
}

TEST_P(Views, SliceOfSliceAndOffsets) {
  Tensor x = iota({10});
  Tensor s = x.slice(0, 1, 10, 2).slice(0, 1, 4, 2);  // [1,3,5,7,9] -> [3,7]
  EXPECT_EQ(s.to_vector(), (std::vector<float>{3, 7}));
  EXPECT_EQ(s.offset(), 3);
  EXPECT_EQ(s.strides(), (Shape{4}));
}

// ------------------------------------------------------------------ contiguous

TEST_P(Views, ContiguousOfPermutedAndSliced) {
  Tensor x = iota({3, 4, 5});
  Tensor same = x.contiguous();
  EXPECT_EQ(same.unsafe_impl(), x.unsafe_impl());

  Tensor p = x.permute({1, 2, 0});
  Tensor pc = p.contiguous();
  EXPECT_TRUE(pc.is_contiguous());
  EXPECT_EQ(pc.strides(), (Shape{15, 3, 1}));
  EXPECT_NE(pc.storage(), x.storage());
  EXPECT_EQ(pc.to_vector(), p.to_vector());
  EXPECT_EQ(to_ref(pc).v, ref::permute(iota_ref({3, 4, 5}), {1, 2, 0}).v);

  Tensor s = x.slice(2, 1, 5, 2).slice(0, 1, 3);
  EXPECT_FALSE(s.is_contiguous());
  Tensor sc = s.contiguous();
  EXPECT_TRUE(sc.is_contiguous());
  EXPECT_EQ(sc.offset(), 0);
  EXPECT_EQ(to_ref(sc).v, ref::slice(ref::slice(iota_ref({3, 4, 5}), 2, 1, 5, 2), 0, 1, 3).v);

  // A contiguous row range stays a view.
  Tensor rows = x.slice(0, 1, 2);
  EXPECT_TRUE(rows.is_contiguous());
  EXPECT_EQ(rows.contiguous().storage(), x.storage());
}

// ------------------------------------------------------------------ squeeze / unsqueeze / flatten

TEST_P(Views, SqueezeUnsqueezeFlatten) {
  Tensor x = iota({2, 1, 3});
  EXPECT_EQ(x.squeeze(1).shape(), (Shape{2, 3}));
  EXPECT_EQ(x.squeeze(-2).to_vector(), x.to_vector());
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 1, 3}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(x.unsqueeze(3).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(x.unsqueeze(1).storage(), x.storage());
  EXPECT_THAT([&] { x.squeeze(0); }, ThrowsMessage<Error>(AllOf(HasSubstr("squeeze"), HasSubstr("size 2"))));
  EXPECT_THAT([&] { x.unsqueeze(4); }, ThrowsMessage<Error>(HasSubstr("unsqueeze")));

  Tensor y = iota({2, 3, 4, 5});
  EXPECT_EQ(y.flatten().shape(), (Shape{120}));
  EXPECT_EQ(y.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(y.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(y.flatten(-2, -1).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(y.flatten(2, 2).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(Tensor::full({}, 3.f, DType::f32, device()).flatten().shape(), (Shape{1}));
  EXPECT_THAT([&] { y.flatten(2, 1); }, ThrowsMessage<Error>(HasSubstr("flatten")));

  // On a strided tensor the values follow the view's logical order.
  Tensor t = iota({2, 3}).transpose(0, 1).unsqueeze(0);
  EXPECT_EQ(t.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(t.flatten().to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

// ------------------------------------------------------------------ gradients through views

ref::Arr reshaped(ref::Arr a, const Shape& shape) {
  a.shape = shape;
  return a;
}

TEST_P(ViewGrads, Permute) {
  check_op([](const std::vector<Tensor>& x) { return x[0].permute({2, 0, 1}); },
           [](const std::vector<ref::Arr>& x) { return ref::permute(x[0], {2, 0, 1}); }, {random_arr({2, 3, 4})},
           device());
}

TEST_P(ViewGrads, Transpose) {
  check_op([](const std::vector<Tensor>& x) { return x[0].transpose(-1, 0); },
           [](const std::vector<ref::Arr>& x) { return ref::permute(x[0], {2, 1, 0}); }, {random_arr({3, 2, 5})},
           device());
}

TEST_P(ViewGrads, SliceWithStep) {
  check_op([](const std::vector<Tensor>& x) { return x[0].slice(1, -6, 7, 2); },
           [](const std::vector<ref::Arr>& x) { return ref::slice(x[0], 1, -6, 7, 2); }, {random_arr({3, 7})},
           device());
}

TEST_P(ViewGrads, SliceOfPermute) {
  check_op([](const std::vector<Tensor>& x) { return x[0].permute({1, 0, 2}).slice(2, 1, 4, 2); },
           [](const std::vector<ref::Arr>& x) { return ref::slice(ref::permute(x[0], {1, 0, 2}), 2, 1, 4, 2); },
           {random_arr({2, 3, 5})}, device());
}

TEST_P(ViewGrads, Reshape) {
  check_op([](const std::vector<Tensor>& x) { return x[0].reshape({4, -1}); },
           [](const std::vector<ref::Arr>& x) { return reshaped(x[0], {4, 6}); }, {random_arr({2, 3, 4})}, device());
}

TEST_P(ViewGrads, ReshapeOfTransposeCopies) {
  check_op([](const std::vector<Tensor>& x) { return x[0].transpose(0, 1).reshape({-1}); },
           [](const std::vector<ref::Arr>& x) { return reshaped(ref::permute(x[0], {1, 0}), {12}); },
           {random_arr({3, 4})}, device());
}

TEST_P(ViewGrads, SqueezeUnsqueezeFlatten) {
  check_op([](const std::vector<Tensor>& x) { return x[0].squeeze(1).unsqueeze(0).flatten(1); },
           [](const std::vector<ref::Arr>& x) { return reshaped(x[0], {1, 6}); }, {random_arr({2, 1, 3})}, device());
}

TEST_P(ViewGrads, ViewUsedTwiceAccumulates) {
  // y = x[:, 0:2] * x[:, 1:3]: the middle column receives gradient from both slices.
  check_op(
      [](const std::vector<Tensor>& x) { return mul(x[0].slice(1, 0, 2), x[0].slice(1, 1, 3)); },
      [](const std::vector<ref::Arr>& x) {
        return ref::binary(ref::slice(x[0], 1, 0, 2), ref::slice(x[0], 1, 1, 3), [](double a, double b) { return a * b; });
      },
      {random_arr({2, 3})}, device());
}

LOWBIT_INSTANTIATE_DEVICES(Views);
LOWBIT_INSTANTIATE_DEVICES(ViewGrads);

}  // namespace
}  // namespace lowbit::test
