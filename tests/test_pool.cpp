// Tests for max_pool2d, avg_pool2d and global_avg_pool (core/ops/pool.h) on NHWC images:
// forward and gradients against the float64 references over shapes, kernels, strides and
// paddings; exact ties (gradient to the first maximum), padding never winning, non-contiguous
// input and argument errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/ops/pool.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

class PoolTest : public DeviceTest {};

struct Case {
  Shape shape;
  Pool2dParams p;  // kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w
};

const std::vector<Case> kCases = {
    {{2, 4, 4, 3}, {2, 2, 2, 2, 0, 0}},  // the usual 2x2/2
    {{1, 5, 7, 2}, {3, 3, 2, 2, 1, 1}},  // odd sizes, padded, overlapping
    {{2, 5, 5, 1}, {3, 3, 1, 1, 1, 1}},  // stride 1 "same"
    {{1, 6, 5, 2}, {3, 2, 2, 1, 1, 0}},  // rectangular kernel and stride
    {{1, 7, 7, 2}, {3, 3, 3, 3, 0, 0}},  // floor mode drops the last row/column
    {{1, 3, 3, 4}, {3, 3, 1, 1, 2, 2}},  // padding up to kernel - 1
};

std::string name(const Case& c) {
  return shape_str(c.shape) + " k" + std::to_string(c.p.kernel_h) + "x" + std::to_string(c.p.kernel_w) + " s" +
         std::to_string(c.p.stride_h) + "x" + std::to_string(c.p.stride_w) + " p" + std::to_string(c.p.pad_h) + "x" +
         std::to_string(c.p.pad_w);
}

TEST_P(PoolTest, MaxPoolMatchesReference) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(name(c));
    Pool2dParams p = c.p;
    check_op([p](const std::vector<Tensor>& in) { return max_pool2d(in[0], p); },
             [p](const std::vector<ref::Arr>& in) {
               return ref::max_pool2d(in[0], p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w);
             },
             {random_arr(c.shape, -1, 1, 31)}, device());
  }
}

TEST_P(PoolTest, AvgPoolMatchesReference) {
  for (bool include_pad : {true, false})
    for (const Case& c : kCases) {
      SCOPED_TRACE(name(c) + (include_pad ? " count_include_pad" : " count_exclude_pad"));
      Pool2dParams p = c.p;
      check_op([p, include_pad](const std::vector<Tensor>& in) { return avg_pool2d(in[0], p, include_pad); },
               [p, include_pad](const std::vector<ref::Arr>& in) {
                 return ref::avg_pool2d(in[0], p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                                        include_pad);
               },
               {random_arr(c.shape, -1, 1, 32)}, device());
    }
}

TEST_P(PoolTest, GlobalAvgPoolMatchesReference) {
  for (const Shape& s : std::vector<Shape>{{2, 3, 4, 5}, {1, 1, 1, 3}, {3, 7, 5, 1}}) {
    SCOPED_TRACE(shape_str(s));
    check_op([](const std::vector<Tensor>& in) { return global_avg_pool(in[0]); },
             [](const std::vector<ref::Arr>& in) { return ref::global_avg_pool(in[0]); }, {random_arr(s, -1, 1, 33)},
             device());
  }
}

// With every value equal, each window's first in-image cell (row-major) takes the gradient.
TEST_P(PoolTest, MaxPoolTiesGoToTheFirstMaximum) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(name(c));
    const Pool2dParams& p = c.p;
    Tensor x = Tensor::full(c.shape, 0.5f, DType::f32, device()).requires_grad_();
    Tensor y = max_pool2d(x, p);
    ref::Arr g = random_arr(y.shape(), -1, 1, 34);
    y.backward(from_ref(g, device()));
    // Accumulated in f32 in the kernel's order (output pixels row-major), so the check is exact.
    std::vector<float> gv = from_ref(g).to_vector(), want(static_cast<size_t>(shape_numel(c.shape)), 0.f);
    int64_t h = c.shape[1], w = c.shape[2], ch = c.shape[3], oh = y.shape()[1], ow = y.shape()[2];
    for (int64_t b = 0; b < c.shape[0]; ++b)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t k = 0; k < ch; ++k) {
            int64_t iy = std::max<int64_t>(oy * p.stride_h - p.pad_h, 0);
            int64_t ix = std::max<int64_t>(ox * p.stride_w - p.pad_w, 0);
            want[static_cast<size_t>(((b * h + iy) * w + ix) * ch + k)] +=
                gv[static_cast<size_t>(((b * oh + oy) * ow + ox) * ch + k)];
          }
    EXPECT_EQ(x.grad().to_vector(), want);
    EXPECT_EQ(y.to_vector(), std::vector<float>(static_cast<size_t>(y.numel()), 0.5f));
  }
}

TEST_P(PoolTest, MaxPoolTiesHandPicked) {
  // One 2x2 window per channel; channel 0: max 3 at (0,1) and (1,0); channel 1: all equal.
  Tensor x = Tensor::from_vector(std::vector<float>{1, 7, 3, 7, 3, 7, 2, 7}, {1, 2, 2, 2}, device()).requires_grad_();
  Tensor y = max_pool2d(x, {2, 2, 2, 2, 0, 0});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3, 7}));
  y.backward(Tensor::from_vector(std::vector<float>{10, 20}, {1, 1, 1, 2}, device()));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 20, 10, 0, 0, 0, 0, 0}));
}

TEST_P(PoolTest, MaxPoolPaddingNeverWins) {
  // All values negative: a zero from padding would win if padding took part.
  for (const Case& c : kCases) {
    SCOPED_TRACE(name(c));
    Pool2dParams p = c.p;
    ref::Arr x = random_arr(c.shape, -3, -1, 35);
    Tensor xt = from_ref(x, device()).requires_grad_();
    Tensor y = max_pool2d(xt, p);
    EXPECT_EQ(to_ref(y).v, ref::max_pool2d(x, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w).v);
    for (float v : y.to_vector()) EXPECT_LT(v, 0.f);
    y.backward(Tensor::ones(y.shape(), DType::f32, device()));
    double total = 0;
    for (float v : xt.grad().to_vector()) total += v;
    EXPECT_EQ(total, static_cast<double>(y.numel()));  // every window's gradient landed in the image
  }
}

TEST_P(PoolTest, NonContiguousInput) {
  ref::Arr stored = random_arr({2, 5, 5, 3}, -1, 1, 36);  // NHWC with H and W swapped in memory
  Tensor x = from_ref(stored, device()).transpose(1, 2);
  ASSERT_FALSE(x.is_contiguous());
  ref::Arr xr = ref::permute(stored, {0, 2, 1, 3});
  expect_close(ref::max_pool2d(xr, 3, 3, 2, 2, 1, 1), max_pool2d(x, {3, 3, 2, 2, 1, 1}));
  expect_close(ref::avg_pool2d(xr, 3, 3, 2, 2, 1, 1, false), avg_pool2d(x, {3, 3, 2, 2, 1, 1}, false));
  expect_close(ref::global_avg_pool(xr), global_avg_pool(x));
}

TEST_P(PoolTest, Errors) {
  Tensor x = Tensor::ones({1, 4, 4, 2}, DType::f32, device());
  EXPECT_THROW(max_pool2d(Tensor::ones({4, 4, 2}, DType::f32, device()), {}), Error);  // not NHWC
  EXPECT_THROW(max_pool2d(x, {2, 2, 0, 2, 0, 0}), Error);                              // stride 0
  EXPECT_THROW(max_pool2d(x, {0, 2, 1, 1, 0, 0}), Error);                              // kernel 0
  EXPECT_THROW(avg_pool2d(x, {2, 2, 1, 1, 2, 0}), Error);                              // pad >= kernel
  EXPECT_THROW(avg_pool2d(x, {2, 2, 1, 1, -1, 0}), Error);                             // negative pad
  EXPECT_THROW(max_pool2d(x, {5, 5, 1, 1, 0, 0}), Error);                              // kernel > input
  EXPECT_THROW(global_avg_pool(Tensor::ones({2, 3}, DType::f32, device())), Error);
  EXPECT_THROW(max_pool2d(Tensor::ones({1, 4, 4, 2}, DType::i32, device()), {}), Error);
}

LOWBIT_INSTANTIATE_DEVICES(PoolTest);

}  // namespace
}  // namespace lowbit::test
