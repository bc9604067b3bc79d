// Tests for conv2d (core/ops/conv.h) against the float64 reference: gradients on small shapes
// over strides, paddings, 1x1 / 3x3 / non-square kernels, groups and depthwise, bias or none;
// forward-only sweeps on larger shapes; shape errors; im2col/col2im as adjoints; and (slow) the
// batch-chunked path against the same conv run on the halves of the batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/ops/conv.h"
#include "kernels/cpu/conv.h"
#include "tests/gradcheck.h"

namespace lowbit::test {
namespace {

struct ConvCase {
  int64_t N, H, W, C, O, KH, KW, sh, sw, ph, pw, groups;
  bool bias;
  std::string str() const {
    std::ostringstream os;
    os << "N" << N << " " << H << "x" << W << "x" << C << " -> " << O << " k" << KH << "x" << KW << " s" << sh << ","
       << sw << " p" << ph << "," << pw << " g" << groups << (bias ? " bias" : "");
    return os.str();
  }
};

std::vector<ref::Arr> conv_inputs(const ConvCase& c, uint64_t seed) {
  std::vector<ref::Arr> in = {random_arr({c.N, c.H, c.W, c.C}, -1, 1, seed),
                              random_arr({c.O, c.KH, c.KW, c.C / c.groups}, -1, 1, seed + 1)};
  if (c.bias) in.push_back(random_arr({c.O}, -1, 1, seed + 2));
  return in;
}

Tensor run_conv(const ConvCase& c, const std::vector<Tensor>& in) {
  return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), {c.sh, c.sw, c.ph, c.pw, c.groups});
}

ref::Arr ref_conv(const ConvCase& c, const std::vector<ref::Arr>& in) {
  return ref::conv2d(in[0], in[1], in.size() > 2 ? in[2] : ref::Arr{}, c.sh, c.sw, c.ph, c.pw, c.groups);
}

class Conv2dTest : public DeviceTest {};

// Small enough for central differences of the float64 reference (2 reference calls per input
// element), varied enough to catch H/W, stride/pad and group mix-ups.
TEST_P(Conv2dTest, GradientsOnSmallShapes) {
  const ConvCase cases[] = {
      {2, 5, 4, 3, 2, 3, 3, 1, 1, 1, 1, 1, true},   // 3x3 same padding, batch 2
      {1, 5, 5, 2, 3, 3, 3, 2, 2, 0, 0, 1, false},  // stride 2, no padding
      {2, 3, 5, 4, 4, 1, 1, 1, 1, 0, 0, 2, true},   // 1x1 (im2col-free path), groups 2
      {1, 5, 3, 2, 2, 1, 1, 2, 2, 1, 1, 1, false},  // 1x1 with stride and padding
      {2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 3, true},   // depthwise
      {1, 5, 4, 2, 4, 3, 3, 2, 2, 1, 1, 2, false},  // depthwise, channel multiplier 2, stride 2
      {1, 4, 5, 4, 6, 3, 3, 1, 1, 0, 0, 2, true},   // groups 2, valid padding
      {2, 5, 6, 2, 2, 3, 2, 1, 2, 0, 1, 1, true},   // non-square kernel, mixed stride/padding
  };
  CheckOptions opt;
  opt.fwd_atol = kAccumAtol;
  opt.fwd_rtol = kAccumRtol;
  uint64_t seed = 100;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.str());
    check_op([&c](const std::vector<Tensor>& in) { return run_conv(c, in); },
             [&c](const std::vector<ref::Arr>& in) { return ref_conv(c, in); }, conv_inputs(c, seed += 3), device(),
             opt);
  }
}

TEST_P(Conv2dTest, ForwardSweep) {
  uint64_t seed = 200;
  for (int64_t k : {1, 3})
    for (int64_t s : {1, 2})
      for (int64_t p : {0, 1})
        for (int64_t groups : {1, 2, 8}) {  // 8 = depthwise (C = 8), channel multiplier 2
          ConvCase c{2, 7, 9, 8, 16, k, k, s, s, p, p, groups, groups != 2};
          SCOPED_TRACE(c.str());
          std::vector<ref::Arr> in = conv_inputs(c, seed += 3);
          std::vector<Tensor> t;
          for (const auto& a : in) t.push_back(from_ref(a, device()));
          expect_close(ref_conv(c, in), run_conv(c, t), kAccumAtol, kAccumRtol, "forward");
        }
}

TEST_P(Conv2dTest, StridedInput) {
  // An NCHW tensor permuted to NHWC is not contiguous; conv2d must see its logical values.
  ref::Arr nchw = random_arr({2, 3, 5, 6}, -1, 1, 300), w = random_arr({4, 3, 3, 3}, -1, 1, 301);
  Tensor x = from_ref(nchw, device()).permute({0, 2, 3, 1});
  ASSERT_FALSE(x.is_contiguous());
  Tensor y = conv2d(x, from_ref(w, device()), Tensor(), {1, 1, 1, 1, 1});
  expect_close(ref::conv2d(ref::permute(nchw, {0, 2, 3, 1}), w, {}, 1, 1, 1, 1), y, kAccumAtol, kAccumRtol);
}

TEST_P(Conv2dTest, ShapeErrors) {
  auto t = [&](const Shape& s) { return Tensor::zeros(s, DType::f32, device()); };
  // Channel count vs weight: both shapes named.
  expect_error(
      [&] {
        conv2d(t({1, 5, 5, 3}), t({4, 3, 3, 2}), Tensor(), {});
      },
      {"conv2d", "[1, 5, 5, 3]", "[4, 3, 3, 2]"});
  expect_error(
      [&] {
        conv2d(t({1, 5, 5, 4}), t({4, 3, 3, 4}), Tensor(), {1, 1, 0, 0, 2});
      },
      {"conv2d", "[1, 5, 5, 4]", "[4, 3, 3, 4]"});
  // Groups must divide C and O.
  expect_error(
      [&] {
        conv2d(t({1, 5, 5, 3}), t({4, 3, 3, 1}), Tensor(), {1, 1, 0, 0, 2});
      },
      {"conv2d", "groups = 2", "[1, 5, 5, 3]"});
  expect_error(
      [&] {
        conv2d(t({1, 5, 5, 4}), t({3, 3, 3, 2}), Tensor(), {1, 1, 0, 0, 2});
      },
      {"conv2d", "groups = 2", "[3, 3, 3, 2]"});
  expect_error([&] { conv2d(t({1, 5, 5, 4}), t({4, 3, 3, 4}), Tensor(), {1, 1, 0, 0, 0}); }, {"conv2d", "groups"});
  // Empty output, bad stride/padding, ranks, bias.
  expect_error([&] { conv2d(t({1, 2, 5, 1}), t({1, 3, 3, 1}), Tensor(), {}); }, {"conv2d", "3x3", "[1, 2, 5, 1]"});
  expect_error([&] { conv2d(t({1, 5, 5, 1}), t({1, 3, 3, 1}), Tensor(), {0, 1, 0, 0, 1}); }, {"conv2d", "stride"});
  expect_error([&] { conv2d(t({1, 5, 5, 1}), t({1, 3, 3, 1}), Tensor(), {1, 1, -1, 0, 1}); }, {"conv2d", "padding"});
  expect_error([&] { conv2d(t({5, 5, 1}), t({1, 3, 3, 1}), Tensor(), {}); }, {"conv2d", "x", "[5, 5, 1]"});
  expect_error([&] { conv2d(t({1, 5, 5, 1}), t({2, 3, 3, 1}), t({3}), {}); }, {"conv2d", "bias", "[3]"});
}

LOWBIT_INSTANTIATE_DEVICES(Conv2dTest);

// im2col and col2im are adjoint: <im2col(x), c> == <x, col2im(c)>. Also checks that im2col writes
// every element of a NaN-poisoned buffer (padding taps become 0) and only its own channel group.
TEST(ConvKernel, Im2colAndCol2imAreAdjoint) {
  const cpu::ConvGeom g{5, 4, 6, 3, 2, 0, 0, 2, 1, 1, 1, 3};  // 5x4x6 image, 3x2 kernel, groups of 3
  cpu::ConvGeom geom = g;
  geom.OH = (g.H + 2 * g.ph - g.KH) / g.sh + 1;
  geom.OW = (g.W + 2 * g.pw - g.KW) / g.sw + 1;
  const int64_t nb = 2, c0 = 3, rows = geom.col_rows(nb), cols = geom.col_cols();
  ref::Arr xr = random_arr({nb, g.H, g.W, g.C}, -1, 1, 400), cr = random_arr({rows, cols}, -1, 1, 401);
  std::vector<float> x(xr.v.begin(), xr.v.end()), c(cr.v.begin(), cr.v.end());
  std::vector<float> col(static_cast<size_t>(rows * cols), std::nanf(""));
  cpu::im2col(x.data(), geom, nb, c0, col.data());
  std::vector<float> dx(x.size(), 0.f);
  cpu::col2im(c.data(), geom, nb, c0, dx.data());
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < col.size(); ++i) {
    ASSERT_FALSE(std::isnan(col[i])) << "im2col left element " << i << " unwritten";
    lhs += static_cast<double>(col[i]) * c[i];
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (static_cast<int64_t>(i) % g.C < c0) {
      EXPECT_EQ(dx[i], 0.f) << "col2im touched another group";
    }
    rhs += static_cast<double>(x[i]) * dx[i];
  }
  EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::abs(lhs)) + 1e-4);
}

// A batch whose column matrix exceeds the 256 MB budget runs in chunks; the results must match
// the same conv run on each half of the batch (each half fits one chunk).
TEST(SlowConv2dChunks, ChunkedBatchMatchesHalves) {
  const int64_t N = 128, H = 64, W = 64, C = 16, O = 8;  // column matrix: 128*64*64*144*4 B = 302 MB
  Generator gen(7);
  Tensor x = Tensor::randn({N, H, W, C}, Device::cpu(), &gen).requires_grad_();
  Tensor w = Tensor::randn({O, 3, 3, C}, Device::cpu(), &gen).requires_grad_();
  Tensor b = Tensor::randn({O}, Device::cpu(), &gen).requires_grad_();
  Conv2dParams p{1, 1, 1, 1, 1};
  Tensor y = conv2d(x, w, b, p);
  Tensor gy = Tensor::randn(y.shape(), Device::cpu(), &gen);
  y.backward(gy);
  Tensor gx = x.grad(), gw = w.grad(), gb = b.grad();

  x.zero_grad();
  w.zero_grad();
  b.zero_grad();
  Tensor halves[2];
  for (int h = 0; h < 2; ++h) {
    Tensor xh = x.detach().slice(0, h * N / 2, (h + 1) * N / 2).contiguous().requires_grad_();
    halves[h] = conv2d(xh, w, b, p);
    halves[h].backward(gy.slice(0, h * N / 2, (h + 1) * N / 2).contiguous());
    expect_close(to_ref(halves[h]), to_ref(y.detach().slice(0, h * N / 2, (h + 1) * N / 2)), kAccumAtol, kAccumRtol,
                 "forward half " + std::to_string(h));
    expect_close(to_ref(xh.grad()), to_ref(gx.slice(0, h * N / 2, (h + 1) * N / 2)), kAccumAtol, kAccumRtol,
                 "dx half " + std::to_string(h));
  }
  // w.grad() and b.grad() accumulated over both halves.
  expect_close(to_ref(w.grad()), to_ref(gw), kLongSumAtol, kAccumRtol, "dw");
  expect_close(to_ref(b.grad()), to_ref(gb), kLongSumAtol, kAccumRtol, "db");
}

}  // namespace
}  // namespace lowbit::test
