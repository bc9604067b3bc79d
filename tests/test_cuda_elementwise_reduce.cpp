// CUDA-vs-CPU agreement of the elementwise and reduction kernels on random inputs of awkward
// shapes: sizes that are not multiples of 4, misaligned (offset) views, every broadcasting pattern
// the fast paths and the general kernel take, reductions over every axis subset of 4-d tensors,
// large reductions that split rows/columns over blocks, ties and NaN for max/min (exact), and the
// max/min backward and argmax. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor.h"
#include "tests/tolerances.h"

namespace lowbit::test {
namespace {

class CUDAAgreement : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
};

// Uniform values in [lo, hi); with `levels` > 0, only `levels` distinct values (many ties).
Tensor random_cpu(const Shape& shape, float lo, float hi, uint32_t seed, int levels = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::uniform_int_distribution<int> k(0, levels > 0 ? levels - 1 : 0);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = levels > 0 ? lo + (hi - lo) * static_cast<float>(k(rng)) / static_cast<float>(levels) : u(rng);
  return Tensor::from_vector(v, shape);
}

// Exact comparison when atol == rtol == 0 (NaN equal to NaN).
void expect_agree(const Tensor& want_cpu, const Tensor& got_cuda, double atol, double rtol, const std::string& what) {
  ASSERT_EQ(want_cpu.shape(), got_cuda.shape()) << what;
  ASSERT_EQ(want_cpu.dtype(), got_cuda.dtype()) << what;
  std::vector<float> w = want_cpu.to_vector(), g = got_cuda.to_vector();
  int reported = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    bool ok = (std::isnan(w[i]) && std::isnan(g[i])) ||
              std::abs(static_cast<double>(w[i]) - g[i]) <= atol + rtol * std::abs(static_cast<double>(w[i]));
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " cpu " << w[i] << " cuda " << g[i];
  }
}

std::string str(const Shape& s) { return shape_str(s); }

TEST_F(CUDAAgreement, UnaryForwardBackward) {
  struct Case {
    const char* name;
    Tensor (*fn)(const Tensor&);
    bool positive;
  };
  const std::vector<Case> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, false},
      {"exp", [](const Tensor& x) { return exp(x); }, false},
      {"log", [](const Tensor& x) { return log(x); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {"abs", [](const Tensor& x) { return abs(x); }, false},
      {"sign", [](const Tensor& x) { return sign(x); }, false},
      {"relu", [](const Tensor& x) { return relu(x); }, false},
      {"tanh", [](const Tensor& x) { return tanh(x); }, false},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
      {"pow", [](const Tensor& x) { return pow(x, 2.5f); }, true},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.3f, 0.4f); }, false},
      {"add_scalar", [](const Tensor& x) { return add(x, 0.7f); }, false},
      {"mul_scalar", [](const Tensor& x) { return mul(x, -1.3f); }, false},
  };
  const std::vector<Shape> shapes = {{1}, {3}, {7}, {1023}, {3, 5, 7}, {4097}};
  for (const Case& c : cases) {
    for (size_t si = 0; si < shapes.size(); ++si) {
      for (bool offset : {false, true}) {  // offset: a view starting one element in (misaligned)
        Shape full = shapes[si];
        full[0] += offset ? 1 : 0;
        Tensor base = random_cpu(full, c.positive ? 0.1f : -2.f, 2.f, static_cast<uint32_t>(17 + si), c.positive ? 0 : 8);
        Tensor xc = offset ? base.slice(0, 1, full[0]) : base;
        Tensor gy = random_cpu(shapes[si], -1.f, 1.f, static_cast<uint32_t>(99 + si));
        Tensor xg = xc.to(Device::cuda());
        std::string what = std::string(c.name) + " " + str(shapes[si]) + (offset ? " offset" : "");

        Tensor xcl = xc.detach().requires_grad_(), xgl = xg.detach().requires_grad_();
        Tensor yc = c.fn(xcl), yg = c.fn(xgl);
        expect_agree(yc, yg, kForwardAtol, kForwardRtol, what + " forward");
        yc.backward(gy);
        yg.backward(gy.to(Device::cuda()));
        expect_agree(xcl.grad(), xgl.grad(), kForwardAtol, kForwardRtol, what + " backward");
      }
    }
  }
}

TEST_F(CUDAAgreement, BinaryBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{1001}, {1001}},                // flat, tail
      {{64, 37}, {64, 37}},            // same shape, merged to flat
      {{5, 7}, {7}},                   // row broadcast, C % 4 != 0
      {{9, 8}, {8}},                   // row broadcast, float4 path
      {{8}, {9, 8}},                   // row broadcast, row first
      {{5, 1}, {1, 7}},                // outer product
      {{5, 1}, {5, 7}},                // column broadcast
      {{}, {13}},                      // scalar
      {{13}, {1}},                     // scalar as [1]
      {{}, {}},                        // scalar op scalar
      {{3, 1, 5, 1}, {4, 1, 6}},       // general, rank 4
      {{2, 3, 1, 5, 2, 1, 3, 2}, {3, 4, 5, 1, 2, 3, 1}},  // rank 8, alternating broadcasts
      {{0, 3}, {3}},                   // empty
  };
  const std::vector<std::pair<const char*, Tensor (*)(const Tensor&, const Tensor&)>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
  };
  uint32_t seed = 5;
  for (const auto& [sa, sb] : pairs) {
    for (const auto& [name, fn] : ops) {
      Tensor a = random_cpu(sa, -2.f, 2.f, seed++), b = random_cpu(sb, 0.5f, 2.f, seed++);
      std::string what = std::string(name) + " " + str(sa) + " " + str(sb);
      Tensor ac = a.detach().requires_grad_(), bc = b.detach().requires_grad_();
      Tensor ag = a.to(Device::cuda()).requires_grad_(), bg = b.to(Device::cuda()).requires_grad_();
      Tensor yc = fn(ac, bc), yg = fn(ag, bg);
      expect_agree(yc, yg, kForwardAtol, kForwardRtol, what);
      if (yc.numel() == 0) continue;
      Tensor gy = random_cpu(yc.shape(), -1.f, 1.f, seed++);
      yc.backward(gy);
      yg.backward(gy.to(Device::cuda()));
      expect_agree(ac.grad(), ag.grad(), kAccumAtol, kAccumRtol, what + " grad a");
      expect_agree(bc.grad(), bg.grad(), kAccumAtol, kAccumRtol, what + " grad b");
    }
  }
}

TEST_F(CUDAAgreement, BinaryMisalignedViews) {
  Tensor base = random_cpu({4 * 33 + 1}, -1.f, 1.f, 3);
  Tensor a = base.slice(0, 1, 4 * 33 + 1).reshape({4, 33});  // contiguous at offset 1
  Tensor row = random_cpu({33}, -1.f, 1.f, 4);
  expect_agree(add(a, a), add(a.to(Device::cuda()), a.to(Device::cuda())), kForwardAtol, kForwardRtol, "same shape");
  expect_agree(mul(a, row), mul(a.to(Device::cuda()), row.to(Device::cuda())), kForwardAtol, kForwardRtol, "row");
}

TEST_F(CUDAAgreement, CompareAndWhere) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{1001}, {1001}}, {{5, 7}, {7}}, {{5, 1}, {1, 7}}, {{}, {13}}, {{3, 1, 5, 1}, {4, 1, 6}}};
  uint32_t seed = 40;
  for (const auto& [sa, sb] : pairs) {
    Tensor a = random_cpu(sa, 0.f, 3.f, seed++, 3), b = random_cpu(sb, 0.f, 3.f, seed++, 3);  // many ties
    Tensor ag = a.to(Device::cuda()), bg = b.to(Device::cuda());
    std::string what = str(sa) + " " + str(sb);
    expect_agree(gt(a, b), gt(ag, bg), 0, 0, "gt " + what);
    expect_agree(lt(a, b), lt(ag, bg), 0, 0, "lt " + what);
    expect_agree(ge(a, b), ge(ag, bg), 0, 0, "ge " + what);
    expect_agree(le(a, b), le(ag, bg), 0, 0, "le " + what);
    expect_agree(eq(a, b), eq(ag, bg), 0, 0, "eq " + what);
    Tensor c = random_cpu(sb, 0.f, 2.f, seed++, 2);
    Tensor cond = gt(c, Tensor::full({}, 0.5f));
    Tensor condg = cond.to(Device::cuda());
    expect_agree(where(cond, a, b), where(condg, ag, bg), 0, 0, "where " + what);
    expect_agree(where(cond, b, a), where(condg, bg, ag), 0, 0, "where swapped " + what);
  }
  // where with a broadcast condition over a 3-operand general layout
  Tensor cond = gt(random_cpu({4, 1, 3}, 0.f, 2.f, 7, 2), Tensor::full({}, 0.5f));
  Tensor a = random_cpu({5, 1}, -1.f, 1.f, 8), b = random_cpu({1, 5, 3}, -1.f, 1.f, 9);
  expect_agree(where(cond, a, b), where(cond.to(Device::cuda()), a.to(Device::cuda()), b.to(Device::cuda())), 0, 0,
               "where general");
}

// Sum, max, min (values, gradients) and argmax over every axis subset of a 4-d tensor.
void check_all_subsets(const Shape& shape, int levels, uint32_t seed) {
  Tensor x = random_cpu(shape, -1.f, 1.f, seed, levels);
  Tensor xg = x.to(Device::cuda());
  const int64_t rank = static_cast<int64_t>(shape.size());
  for (int mask = 0; mask < (1 << rank); ++mask) {
    Axes axes;
    for (int64_t d = 0; d < rank; ++d)
      if (mask & (1 << d)) axes.push_back(d);
    for (bool keepdim : {false, true}) {
      std::string what = str(shape) + " mask " + std::to_string(mask) + (keepdim ? " keepdim" : "");
      expect_agree(sum(x, axes, keepdim), sum(xg, axes, keepdim), kForwardAtol, kForwardRtol, "sum " + what);
      for (bool is_max : {true, false}) {
        Tensor xc = x.detach().requires_grad_(), xgg = xg.detach().requires_grad_();
        Tensor yc = is_max ? max(xc, axes, keepdim) : min(xc, axes, keepdim);
        Tensor yg = is_max ? max(xgg, axes, keepdim) : min(xgg, axes, keepdim);
        std::string w = (is_max ? "max " : "min ") + what;
        expect_agree(yc, yg, 0, 0, w);
        Tensor gy = random_cpu(yc.shape(), 0.5f, 1.5f, seed + 1);
        yc.backward(gy);
        yg.backward(gy.to(Device::cuda()));
        expect_agree(xc.grad(), xgg.grad(), 0, 0, w + " grad (first extreme element)");
      }
    }
  }
  for (int64_t d = 0; d < rank; ++d)
    expect_agree(argmax(x, d).to(DType::f32), argmax(xg, d).to(Device::cpu()).to(DType::f32), 0, 0,
                 "argmax " + str(shape) + " axis " + std::to_string(d));
}

TEST_F(CUDAAgreement, ReduceEveryAxisSubset) {
  check_all_subsets({3, 5, 4, 7}, 0, 1);
  check_all_subsets({3, 5, 4, 7}, 3, 2);  // three levels: ties everywhere
  check_all_subsets({2, 1, 6, 5}, 2, 3);  // a size-1 axis
  check_all_subsets({33, 2, 3, 40}, 4, 4);
}

TEST_F(CUDAAgreement, LargeReductions) {
  struct Case {
    Shape shape;
    Axes axes;
  };
  const std::vector<Case> cases = {
      {{1 << 20}, {}},               // all: split rows + finishing pass
      {{3, 100003}, {1}},            // long rows, not a multiple of 4
      {{64, 4096}, {1}},             // float4 rows
      {{2000, 37}, {1}},             // warp per row
      {{70001, 3}, {0}},             // columns, few of them: split over rows
      {{513, 1030}, {0}},            // columns, many
      {{5, 3000, 7}, {1}},           // middle axis (global pooling shape)
      {{6, 50, 8, 9}, {0, 2}},       // alternating: general kernel
      {{4, 0, 3}, {1}},              // empty reduced axis (sum only)
  };
  uint32_t seed = 60;
  for (const Case& c : cases) {
    std::string what = str(c.shape) + " axes " + std::to_string(c.axes.size());
    Tensor x = random_cpu(c.shape, -1.f, 1.f, seed++);
    Tensor xg = x.to(Device::cuda());
    expect_agree(sum(x, c.axes), sum(xg, c.axes), kAccumAtol, kForwardRtol, "sum " + what);
    if (shape_numel(c.shape) == 0) continue;
    Tensor t = random_cpu(c.shape, -1.f, 1.f, seed++, 5);  // ties
    Tensor tg = t.to(Device::cuda());
    expect_agree(max(t, c.axes), max(tg, c.axes), 0, 0, "max " + what);
    expect_agree(min(t, c.axes), min(tg, c.axes), 0, 0, "min " + what);
    Tensor tc = t.detach().requires_grad_(), tgg = tg.detach().requires_grad_();
    sum(max(tc, c.axes)).backward();
    sum(max(tgg, c.axes)).backward();
    expect_agree(tc.grad(), tgg.grad(), 0, 0, "max grad " + what);
  }
}

TEST_F(CUDAAgreement, MaxMinNaNPropagates) {
  std::vector<float> v(4 * 1031, 0.f);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7);
  v[5] = std::nanf("");
  v[1031 + 900] = std::nanf("");
  v[1031 + 1000] = std::nanf("");
  Tensor x = Tensor::from_vector(v, {4, 1031});
  Tensor xg = x.to(Device::cuda());
  for (const Axes& axes : {Axes{1}, Axes{0}, Axes{}}) {
    Tensor xc = x.detach().requires_grad_(), xgg = xg.detach().requires_grad_();
    Tensor yc = max(xc, axes), yg = max(xgg, axes);
    expect_agree(yc, yg, 0, 0, "max with NaN");
    expect_agree(min(x, axes), min(xg, axes), 0, 0, "min with NaN");
    sum(yc).backward();
    sum(yg).backward();
    expect_agree(xc.grad(), xgg.grad(), 0, 0, "max grad with NaN");
  }
}

}  // namespace
}  // namespace lowbit::test
