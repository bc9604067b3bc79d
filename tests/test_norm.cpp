// Tests for batch_norm (core/ops/norm.h): training and evaluation forward/backward against the
// float64 reference (ref::batch_norm_train / batch_norm_eval), running-statistic updates,
// optional gamma/beta, non-contiguous input, and argument errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/norm.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

constexpr float kEps = 1e-5f;

class BatchNormTest : public DeviceTest {};

const std::vector<Shape> kShapes = {{6, 3}, {2, 3, 4, 5}, {3, 5, 1, 2}, {4, 1}};

TEST_P(BatchNormTest, TrainMatchesReference) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(shape_str(s));
    int64_t c = s.back();
    check_op([](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], {}, {}, true, 0.1f, kEps); },
             [](const std::vector<ref::Arr>& in) { return ref::batch_norm_train(in[0], in[1], in[2], kEps).y; },
             {random_arr(s, -2, 3, 1), random_arr({c}, 0.5, 1.5, 2), random_arr({c}, -1, 1, 3)}, device());
  }
}

TEST_P(BatchNormTest, TrainWithoutAffineParameters) {
  check_op([](const std::vector<Tensor>& in) { return batch_norm(in[0], {}, {}, {}, {}, true, 0.1f, kEps); },
           [](const std::vector<ref::Arr>& in) { return ref::batch_norm_train(in[0], {}, {}, kEps).y; },
           {random_arr({2, 3, 3, 4}, -1, 1, 4)}, device());
}

TEST_P(BatchNormTest, TrainGradientOnlyForGamma) {
  CheckOptions opt;
  opt.differentiable = {false, true, false};
  check_op([](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], {}, {}, true, 0.1f, kEps); },
           [](const std::vector<ref::Arr>& in) { return ref::batch_norm_train(in[0], in[1], in[2], kEps).y; },
           {random_arr({5, 4}, -1, 1, 5), random_arr({4}, 0.5, 1.5, 6), random_arr({4}, -1, 1, 7)}, device(), opt);
}

TEST_P(BatchNormTest, TrainUpdatesRunningStatistics) {
  const float m = 0.25f;
  ref::Arr x = random_arr({3, 2, 2, 5}, -2, 2, 8);
  ref::Arr rm0 = random_arr({5}, -1, 1, 9), rv0 = random_arr({5}, 0.5, 2, 10);
  Tensor rm = from_ref(rm0, device()), rv = from_ref(rv0, device());
  Tensor xt = from_ref(x, device()).requires_grad_();
  Tensor y = batch_norm(xt, {}, {}, rm, rv, true, m, kEps);
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_FALSE(rv.requires_grad());

  ref::BatchNormTrainOut want = ref::batch_norm_train(x, {}, {}, kEps);
  ref::Arr want_rm = rm0, want_rv = rv0;
  for (size_t c = 0; c < 5; ++c) {
    want_rm.v[c] = (1 - m) * rm0.v[c] + m * want.mean.v[c];
    want_rv.v[c] = (1 - m) * rv0.v[c] + m * want.var_unbiased.v[c];
  }
  expect_close(want_rm, rm, kAccumAtol, kAccumRtol, "running_mean");
  expect_close(want_rv, rv, kAccumAtol, kAccumRtol, "running_var");
  expect_close(want.y, y, kAccumAtol, kAccumRtol, "y");  // normalized with the biased variance
}

TEST_P(BatchNormTest, TrainWithoutRunningStatisticsLeavesNothingToUpdate) {
  Tensor x = from_ref(random_arr({4, 3}, -1, 1, 11), device());
  Tensor y = batch_norm(x, {}, {}, {}, {}, true);
  expect_close(ref::batch_norm_train(to_ref(x), {}, {}, kEps).y, y, kAccumAtol, kAccumRtol);
}

TEST_P(BatchNormTest, EvalMatchesReference) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(shape_str(s));
    int64_t c = s.back();
    ref::Arr rm = random_arr({c}, -0.5, 0.5, 12), rv = random_arr({c}, 0.5, 2, 13);
    Device dev = device();
    check_op(
        [&](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], in[2], from_ref(rm, dev), from_ref(rv, dev), false, 0.1f, kEps);
        },
        [&](const std::vector<ref::Arr>& in) { return ref::batch_norm_eval(in[0], rm, rv, in[1], in[2], kEps); },
        {random_arr(s, -2, 2, 14), random_arr({c}, 0.5, 1.5, 15), random_arr({c}, -1, 1, 16)}, dev);
  }
}

TEST_P(BatchNormTest, EvalLeavesRunningStatisticsAlone) {
  ref::Arr rm0 = random_arr({3}, -1, 1, 17), rv0 = random_arr({3}, 0.5, 2, 18);
  Tensor rm = from_ref(rm0, device()), rv = from_ref(rv0, device());
  batch_norm(from_ref(random_arr({4, 3}, -1, 1, 19), device()), {}, {}, rm, rv, false);
  EXPECT_EQ(to_ref(rm).v, rm0.v);
  EXPECT_EQ(to_ref(rv).v, rv0.v);
}

TEST_P(BatchNormTest, EvalBackwardUsesStatisticsOfTheForwardPass) {
  // The running statistics change in place after the forward pass (another training step);
  // the backward pass must still use the values the forward pass normalized with.
  ref::Arr x = random_arr({4, 2}, -1, 1, 20), rm0 = random_arr({2}, -1, 1, 21), rv0 = random_arr({2}, 0.5, 2, 22);
  Tensor rm = from_ref(rm0, device()), rv = from_ref(rv0, device());
  Tensor xt = from_ref(x, device()).requires_grad_();
  Tensor y = batch_norm(xt, {}, {}, rm, rv, false, 0.1f, kEps);
  rv.fill_(100.f);
  y.backward(Tensor::ones(y.shape(), DType::f32, device()));
  ref::Arr want = ref::make({4, 2});
  for (size_t i = 0; i < want.v.size(); ++i) want.v[i] = 1.0 / std::sqrt(rv0.v[i % 2] + kEps);
  expect_close(want, xt.grad(), kGradAtol, kGradRtol);
}

TEST_P(BatchNormTest, NonContiguousInput) {
  ref::Arr xt = random_arr({3, 6}, -1, 1, 23);  // stored [C, N]; used as its transpose [N, C]
  Tensor x = from_ref(xt, device()).transpose(0, 1);
  ASSERT_FALSE(x.is_contiguous());
  Tensor y = batch_norm(x, {}, {}, {}, {}, true, 0.1f, kEps);
  expect_close(ref::batch_norm_train(ref::permute(xt, {1, 0}), {}, {}, kEps).y, y, kAccumAtol, kAccumRtol);
}

TEST_P(BatchNormTest, Errors) {
  Tensor x = Tensor::ones({4, 3}, DType::f32, device());
  Tensor c3 = Tensor::ones({3}, DType::f32, device()), c4 = Tensor::ones({4}, DType::f32, device());
  EXPECT_THROW(batch_norm(x, c4, {}, {}, {}, true), Error);         // gamma has the wrong channel count
  EXPECT_THROW(batch_norm(x, c3, c4, {}, {}, true), Error);         // beta too
  EXPECT_THROW(batch_norm(x, {}, {}, c4, c4, true), Error);         // running stats too
  EXPECT_THROW(batch_norm(x, {}, {}, {}, {}, false), Error);        // eval without running stats
  EXPECT_THROW(batch_norm(x, {}, {}, c3, {}, true), Error);         // only one running stat
  EXPECT_THROW(batch_norm(Tensor::ones({3}, DType::f32, device()), {}, {}, {}, {}, true), Error);  // rank 1
  EXPECT_THROW(batch_norm(Tensor::ones({1, 3}, DType::f32, device()), {}, {}, {}, {}, true), Error);  // 1 value
  try {
    batch_norm(x, c4, {}, {}, {}, true);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gamma must have shape [3]"), std::string::npos) << e.what();
  }
  try {
    batch_norm(x, {}, {}, {}, {}, false);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("running_mean"), std::string::npos) << e.what();
  }
}

LOWBIT_INSTANTIATE_DEVICES(BatchNormTest);

}  // namespace
}  // namespace lowbit::test
