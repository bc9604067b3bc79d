// GoogleTest checks of the float64 reference oracles (tests/reference/) on
// small hand-computed cases, so the oracles can be trusted by the other tests.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "tests/reference/array.h"
#include "tests/reference/ops.h"

namespace ref = lowbit::ref;
using ref::Arr;

namespace {

// Deterministic, non-trivial test data.
Arr wavy(const std::vector<int64_t>& shape, double phase = 0.0) {
  Arr a = ref::make(shape);
  for (size_t i = 0; i < a.v.size(); ++i) a.v[i] = std::sin(0.7 * static_cast<double>(i) + phase) * 2.0;
  return a;
}

void expect_arr(const Arr& got, const std::vector<int64_t>& shape, const std::vector<double>& want,
                double tol = 1e-12) {
  ASSERT_EQ(got.shape, shape);
  ASSERT_EQ(got.v.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.v[i], want[i], tol) << "at flat index " << i;
}

}  // namespace

TEST(RefArray, IndexHelpers) {
  Arr a = ref::make({2, 3, 4}, 1.5);
  EXPECT_EQ(ref::numel(a), 24);
  EXPECT_EQ(ref::numel(std::vector<int64_t>{}), 1);
  EXPECT_EQ(ref::offset(a.shape, {1, 2, 3}), 23);
  EXPECT_EQ(ref::offset(a.shape, {1, 0, 2}), 14);
  EXPECT_EQ(ref::unravel(a.shape, 14), (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(ref::strides(a.shape), (std::vector<int64_t>{12, 4, 1}));
  ref::at(a, {1, 0, 2}) = 7.0;
  EXPECT_EQ(a.v[14], 7.0);
  EXPECT_EQ(a.v[0], 1.5);
  EXPECT_THROW(ref::at(a, {2, 0, 0}), std::out_of_range);
}

TEST(RefElementwise, Broadcast3x1Plus1x4) {
  Arr a = ref::from({3, 1}, {10, 20, 30});
  Arr b = ref::from({1, 4}, {1, 2, 3, 4});
  Arr c = ref::binary(a, b, [](double x, double y) { return x + y; });
  expect_arr(c, {3, 4}, {11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34});
  EXPECT_EQ(ref::broadcast_shape({5, 1, 3}, {4, 1}), (std::vector<int64_t>{5, 4, 3}));
  EXPECT_EQ(ref::broadcast_shape({}, {2, 2}), (std::vector<int64_t>{2, 2}));
  EXPECT_THROW(ref::broadcast_shape({3}, {4}), std::invalid_argument);
  // Rank-extending broadcast: [4] against [2,4].
  Arr d = ref::binary(ref::from({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), ref::from({4}, {1, 0, 1, 0}),
                      [](double x, double y) { return x * y; });
  expect_arr(d, {2, 4}, {1, 0, 3, 0, 5, 0, 7, 0});
}

TEST(RefElementwise, SumToUndoesBroadcast) {
  Arr g = ref::from({3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  expect_arr(ref::sum_to(g, {3, 1}), {3, 1}, {10, 26, 42});
  expect_arr(ref::sum_to(g, {1, 4}), {1, 4}, {15, 18, 21, 24});
  expect_arr(ref::sum_to(g, {4}), {4}, {15, 18, 21, 24});
  expect_arr(ref::sum_to(g, {}), {}, {78});
  expect_arr(ref::sum_to(g, {3, 4}), {3, 4}, g.v);
  EXPECT_THROW(ref::sum_to(g, {2, 4}), std::invalid_argument);
}

TEST(RefElementwise, Unary) {
  expect_arr(ref::unary(ref::from({3}, {-1, 0, 2}), [](double x) { return x > 0 ? x : 0.0; }), {3}, {0, 0, 2});
}

TEST(RefShape, PadCatPermuteSlice) {
  Arr x = ref::from({2, 2}, {1, 2, 3, 4});
  expect_arr(ref::pad(x, {{1, 0}, {0, 2}}, -1.0), {3, 4},
             {-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1});

  Arr y = ref::from({2, 1}, {5, 6});
  expect_arr(ref::cat({x, y}, -1), {2, 3}, {1, 2, 5, 3, 4, 6});
  expect_arr(ref::cat({x, ref::from({1, 2}, {7, 8})}, 0), {3, 2}, {1, 2, 3, 4, 7, 8});
  EXPECT_THROW(ref::cat({x, ref::from({1, 3}, {0, 0, 0})}, 0), std::invalid_argument);

  Arr t = ref::from({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_arr(ref::permute(t, {1, 0}), {3, 2}, {1, 4, 2, 5, 3, 6});
  Arr u = wavy({2, 3, 4});
  Arr p = ref::permute(u, {2, 0, 1});
  ASSERT_EQ(p.shape, (std::vector<int64_t>{4, 2, 3}));
  EXPECT_EQ(ref::at(p, {3, 1, 2}), ref::at(u, {1, 2, 3}));

  Arr s = ref::from({6}, {0, 1, 2, 3, 4, 5});
  expect_arr(ref::slice(s, 0, 1, 5, 2), {2}, {1, 3});
  expect_arr(ref::slice(s, 0, -2, 100, 1), {2}, {4, 5});
  expect_arr(ref::slice(s, 0, 5, -100, -2), {3}, {5, 3, 1});
  expect_arr(ref::slice(s, 0, 4, 2, 1), {0}, {});
  expect_arr(ref::slice(t, 1, 1, 3), {2, 2}, {2, 3, 5, 6});
}

TEST(RefReduce, VarUnbiasedOf1234) {
  Arr x = ref::from({4}, {1, 2, 3, 4});
  expect_arr(ref::var(x, {}, true), {}, {5.0 / 3.0});
  expect_arr(ref::var(x, {}, false), {}, {1.25});
  expect_arr(ref::std(x, {0}, true), {}, {std::sqrt(5.0 / 3.0)});
  expect_arr(ref::std(x, {0}, false, true), {1}, {std::sqrt(1.25)});
}

TEST(RefReduce, AxesAndKeepdim) {
  Arr x = ref::from({2, 3}, {1, 5, 3, 4, 2, 6});
  expect_arr(ref::sum(x), {}, {21});
  expect_arr(ref::sum(x, {0}), {3}, {5, 7, 9});
  expect_arr(ref::sum(x, {-1}, true), {2, 1}, {9, 12});
  expect_arr(ref::sum(x, {0, 1}, true), {1, 1}, {21});
  expect_arr(ref::mean(x, {1}), {2}, {3, 4});
  expect_arr(ref::max(x, {0}), {3}, {4, 5, 6});
  expect_arr(ref::min(x, {1}, true), {2, 1}, {1, 2});
  expect_arr(ref::max(x), {}, {6});
  expect_arr(ref::var(x, {0}, true), {3}, {4.5, 4.5, 4.5});
  EXPECT_TRUE(std::isnan(ref::max(ref::from({3}, {1, NAN, 2})).v[0]));

  Arr y = wavy({2, 3, 4});
  Arr s = ref::sum(y, {0, 2});
  ASSERT_EQ(s.shape, (std::vector<int64_t>{3}));
  for (int64_t j = 0; j < 3; ++j) {
    double want = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) want += ref::at(y, {i, j, k});
    EXPECT_NEAR(s.v[j], want, 1e-12);
  }
}

TEST(RefReduce, ArgmaxFirstOnTies) {
  Arr x = ref::from({2, 4}, {1, 3, 3, 0, 7, 7, 7, 7});
  expect_arr(ref::argmax(x, 1), {2}, {1, 0});
  expect_arr(ref::argmax(x, -1, true), {2, 1}, {1, 0});
  expect_arr(ref::argmax(x, 0), {4}, {1, 1, 1, 1});
}

TEST(RefSoftmax, RowsSumToOneAndStable) {
  Arr x = wavy({3, 5});
  Arr p = ref::softmax(x, 1);
  for (int64_t i = 0; i < 3; ++i) {
    double s = 0;
    for (int64_t j = 0; j < 5; ++j) {
      EXPECT_GT(ref::at(p, {i, j}), 0.0);
      s += ref::at(p, {i, j});
    }
    EXPECT_NEAR(s, 1.0, 1e-12);
  }
  expect_arr(ref::softmax(ref::from({2}, {0, std::log(2.0)}), 0), {2}, {1.0 / 3, 2.0 / 3});
  expect_arr(ref::softmax(ref::from({2}, {1000, 1000}), 0), {2}, {0.5, 0.5});
  Arr lp = ref::log_softmax(x, 1);
  for (size_t i = 0; i < x.v.size(); ++i) EXPECT_NEAR(lp.v[i], std::log(p.v[i]), 1e-12);
  expect_arr(ref::log_softmax(ref::from({2}, {-1000, 1000}), 0), {2}, {-2000, 0});
  // Axis 0 on a [2,2]: columns sum to one.
  expect_arr(ref::softmax(ref::from({2, 2}, {0, 5, 0, 5}), 0), {2, 2}, {0.5, 0.5, 0.5, 0.5});
}

TEST(RefLoss, CrossEntropy) {
  Arr uniform = ref::make({3, 5}, 0.25);
  EXPECT_NEAR(ref::cross_entropy(uniform, {0, 4, 2}), std::log(5.0), 1e-12);
  EXPECT_NEAR(ref::cross_entropy(uniform, {0, 4, 2}, 0.3), std::log(5.0), 1e-12);
  // logits [0, ln 3] -> p = [1/4, 3/4]
  Arr l = ref::from({1, 2}, {0, std::log(3.0)});
  EXPECT_NEAR(ref::cross_entropy(l, {1}), -std::log(0.75), 1e-12);
  double eps = 0.1;
  double want = (1 - eps) * -std::log(0.75) + eps * 0.5 * (-std::log(0.25) - std::log(0.75));
  EXPECT_NEAR(ref::cross_entropy(l, {1}, eps), want, 1e-12);
  EXPECT_THROW(ref::cross_entropy(l, {2}), std::out_of_range);
}

TEST(RefNN, Matmul) {
  Arr a = ref::from({2, 3}, {1, 2, 3, 4, 5, 6});
  Arr b = ref::from({3, 2}, {7, 8, 9, 10, 11, 12});
  expect_arr(ref::matmul(a, b), {2, 2}, {58, 64, 139, 154});
  Arr ab = ref::cat({ref::from({1, 2, 3}, a.v), ref::from({1, 2, 3}, {1, 0, 0, 0, 1, 0})}, 0);
  Arr bb = ref::cat({ref::from({1, 3, 2}, b.v), ref::from({1, 3, 2}, b.v)}, 0);
  expect_arr(ref::matmul(ab, bb), {2, 2, 2}, {58, 64, 139, 154, 7, 8, 9, 10});
  EXPECT_THROW(ref::matmul(a, a), std::invalid_argument);
}

TEST(RefNN, Linear) {
  Arr x = ref::from({2, 3}, {1, 2, 3, 4, 5, 6});
  Arr w = ref::from({2, 3}, {1, 0, -1, 0.5, 0.5, 0.5});
  expect_arr(ref::linear(x, w, ref::from({2}, {10, 20})), {2, 2}, {8, 23, 8, 27.5});
  expect_arr(ref::linear(x, w, Arr{}), {2, 2}, {-2, 3, -2, 7.5});
}

TEST(RefNN, Conv2dHandComputed) {
  // x = 1..9 as a 1x3x3x1 image.
  Arr x = ref::from({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  // 3x3 box filter, pad 1: each output = sum of the in-bounds 3x3 neighbourhood.
  Arr box = ref::make({1, 3, 3, 1}, 1.0);
  expect_arr(ref::conv2d(x, box, Arr{}, 1, 1, 1, 1), {1, 3, 3, 1}, {12, 21, 16, 27, 45, 33, 24, 39, 28});
  expect_arr(ref::conv2d(x, box, ref::from({1}, {0.5}), 2, 2, 1, 1), {1, 2, 2, 1}, {12.5, 16.5, 24.5, 28.5});
  // 2x2 kernel [[1,0],[0,-1]], no pad: x[i,j] - x[i+1,j+1] = -4.
  Arr diag = ref::from({1, 2, 2, 1}, {1, 0, 0, -1});
  expect_arr(ref::conv2d(x, diag, Arr{}, 1, 1, 0, 0), {1, 2, 2, 1}, {-4, -4, -4, -4});
  // Asymmetric stride/pad: stride (1,2), pad (0,1), 1x3 kernel [1,2,3].
  Arr row = ref::from({1, 1, 3, 1}, {1, 2, 3});
  // Padded row (0,a,b,c,0); OW = (3+2-3)/2+1 = 2; outputs [2a+3b, b+2c] per row.
  expect_arr(ref::conv2d(x, row, Arr{}, 1, 2, 0, 1), {1, 3, 2, 1}, {8, 8, 23, 17, 38, 26});
}

TEST(RefNN, Conv2dChannels) {
  // Two input channels, 1x1 kernel: out = 2*c0 + 3*c1, plus a second output channel = c1.
  Arr x = ref::from({1, 1, 2, 2}, {1, 10, 2, 20});
  Arr w = ref::from({2, 1, 1, 2}, {2, 3, 0, 1});
  expect_arr(ref::conv2d(x, w, Arr{}, 1, 1, 0, 0), {1, 1, 2, 2}, {32, 10, 64, 20});
}

TEST(RefNN, Conv2dDepthwiseEqualsPerChannel) {
  const int64_t c = 3;
  Arr x = wavy({2, 5, 4, c});
  Arr w = wavy({c, 3, 3, 1}, 0.3);
  Arr bias = ref::from({c}, {0.1, -0.2, 0.3});
  Arr got = ref::conv2d(x, w, bias, 2, 1, 1, 1, /*groups=*/c);
  std::vector<Arr> per;
  for (int64_t ch = 0; ch < c; ++ch) {
    Arr xc = ref::slice(x, 3, ch, ch + 1);
    Arr wc = ref::slice(w, 0, ch, ch + 1);
    per.push_back(ref::conv2d(xc, wc, ref::from({1}, {bias.v[ch]}), 2, 1, 1, 1, 1));
  }
  Arr want = ref::cat(per, 3);
  ASSERT_EQ(got.shape, (std::vector<int64_t>{2, 3, 4, c}));
  EXPECT_LT(ref::max_abs_diff(got, want), 1e-12);

  // groups=2 with C=4, O=4: equals two independent half convs.
  Arr x4 = wavy({1, 4, 4, 4});
  Arr w4 = wavy({4, 3, 3, 2}, 1.1);
  Arr g2 = ref::conv2d(x4, w4, Arr{}, 1, 1, 1, 1, 2);
  Arr lo = ref::conv2d(ref::slice(x4, 3, 0, 2), ref::slice(w4, 0, 0, 2), Arr{}, 1, 1, 1, 1);
  Arr hi = ref::conv2d(ref::slice(x4, 3, 2, 4), ref::slice(w4, 0, 2, 4), Arr{}, 1, 1, 1, 1);
  EXPECT_LT(ref::max_abs_diff(g2, ref::cat({lo, hi}, 3)), 1e-12);
  EXPECT_THROW(ref::conv2d(x4, w4, Arr{}, 1, 1, 1, 1, 1), std::invalid_argument);
}

TEST(RefNN, BatchNorm) {
  const double eps = 1e-5;
  Arr x = ref::from({4, 2}, {1, 10, 2, 10, 3, 10, 4, 10});
  ref::BatchNormTrainOut r = ref::batch_norm_train(x, ref::from({2}, {2, 1}), ref::from({2}, {0.5, -1}), eps);
  expect_arr(r.mean, {2}, {2.5, 10});
  expect_arr(r.var_unbiased, {2}, {5.0 / 3.0, 0});
  expect_arr(r.var_biased, {2}, {1.25, 0});
  double sd = std::sqrt(1.25 + eps);
  expect_arr(r.y, {4, 2},
             {2 * -1.5 / sd + 0.5, -1, 2 * -0.5 / sd + 0.5, -1, 2 * 0.5 / sd + 0.5, -1, 2 * 1.5 / sd + 0.5, -1});

  // NHWC: statistics are over N,H,W for each channel (last axis).
  Arr x4 = wavy({2, 3, 2, 3});
  ref::BatchNormTrainOut r4 = ref::batch_norm_train(x4, Arr{}, Arr{}, eps);
  EXPECT_LT(ref::max_abs_diff(r4.mean, ref::mean(x4, {0, 1, 2})), 1e-12);
  EXPECT_LT(ref::max_abs_diff(r4.var_unbiased, ref::var(x4, {0, 1, 2}, true)), 1e-12);
  Arr per_ch_mean = ref::mean(r4.y, {0, 1, 2});
  Arr per_ch_var = ref::var(r4.y, {0, 1, 2}, false);
  for (int64_t ch = 0; ch < 3; ++ch) {
    EXPECT_NEAR(per_ch_mean.v[ch], 0.0, 1e-12);
    EXPECT_NEAR(per_ch_var.v[ch], 1.0, 1e-4);
  }

  Arr e = ref::batch_norm_eval(ref::from({1, 2}, {3, 4}), ref::from({2}, {1, 4}), ref::from({2}, {4, 1}),
                               ref::from({2}, {1, 3}), ref::from({2}, {0, 1}), 0.0);
  expect_arr(e, {1, 2}, {1, 1});
}

TEST(RefNN, MaxPool) {
  expect_arr(ref::max_pool2d(ref::from({1, 2, 2, 1}, {1, 5, 3, 2}), 2, 2, 2, 2, 0, 0), {1, 1, 1, 1}, {5});
  Arr x = ref::make({1, 4, 4, 1});
  for (size_t i = 0; i < 16; ++i) x.v[i] = static_cast<double>(i);
  expect_arr(ref::max_pool2d(x, 2, 2, 2, 2, 0, 0), {1, 2, 2, 1}, {5, 7, 13, 15});
  // Padding never wins, even against all-negative inputs.
  Arr neg = ref::from({1, 2, 2, 1}, {-1, -2, -3, -4});
  expect_arr(ref::max_pool2d(neg, 2, 2, 1, 1, 1, 1), {1, 3, 3, 1}, {-1, -1, -2, -1, -1, -2, -3, -3, -4});
  // Channels pooled independently.
  expect_arr(ref::max_pool2d(ref::from({1, 1, 2, 2}, {1, 9, 8, 2}), 1, 2, 1, 1, 0, 0), {1, 1, 1, 2}, {8, 9});
}

TEST(RefNN, AvgPool) {
  Arr x = ref::from({1, 2, 2, 1}, {1, 2, 3, 4});
  expect_arr(ref::avg_pool2d(x, 2, 2, 1, 1, 1, 1, true), {1, 3, 3, 1},
             {0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0});
  expect_arr(ref::avg_pool2d(x, 2, 2, 1, 1, 1, 1, false), {1, 3, 3, 1},
             {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  expect_arr(ref::avg_pool2d(x, 2, 2, 2, 2, 0, 0, false), {1, 1, 1, 1}, {2.5});
  expect_arr(ref::global_avg_pool(ref::from({2, 1, 2, 2}, {1, 10, 3, 30, 0, 0, 2, 4})), {2, 2}, {2, 20, 1, 2});
}

TEST(RefGrad, NumericGradOfSumSquares) {
  Arr x = ref::from({2, 3}, {1, -2, 0.5, 3, 0, -0.25});
  auto f = [](const std::vector<Arr>& in) {
    double s = 0;
    for (double v : in[0].v) s += v * v;
    return s;
  };
  Arr g = ref::numeric_grad(f, {x}, 0);
  Arr want = ref::unary(x, [](double v) { return 2 * v; });
  EXPECT_LT(ref::max_abs_diff(g, want), 1e-6);

  // Gradient of weighted_sum(matmul(a, b), w) w.r.t. a is w b^T.
  Arr a = wavy({2, 3}), b = wavy({3, 4}, 0.5), w = wavy({2, 4}, 1.0);
  auto h = [&](const std::vector<Arr>& in) { return ref::weighted_sum(ref::matmul(in[0], in[1]), w); };
  Arr ga = ref::numeric_grad(h, {a, b}, 0);
  Arr want_a = ref::matmul(w, ref::permute(b, {1, 0}));
  EXPECT_LT(ref::max_abs_diff(ga, want_a), 1e-6);
  EXPECT_NEAR(ref::weighted_sum(ref::from({2}, {1, 2}), ref::from({2}, {3, 4})), 11.0, 1e-12);
}
