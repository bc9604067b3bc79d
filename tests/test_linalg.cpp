// Tests for matmul and linear (core/ops/linalg.h) against the float64 references, forward and
// gradients, over awkward sizes (K = 1, 31, 33, 65, empty K, batches, strided inputs), their
// shape errors, and the raw CPU GEMM wrapper (transpose flags, padded leading dimensions).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/linalg.h"
#include "kernels/cpu/gemm.h"
#include "tests/gradcheck.h"

namespace lowbit::test {
namespace {

CheckOptions gemm_options() {
  CheckOptions opt;
  opt.fwd_atol = kAccumAtol;
  opt.fwd_rtol = kAccumRtol;
  return opt;
}

class MatmulTest : public DeviceTest {};
class LinearTest : public DeviceTest {};

TEST_P(MatmulTest, GradientsOverAwkwardK) {
  for (int64_t k : {1, 31, 33, 65}) {
    SCOPED_TRACE("K = " + std::to_string(k));
    check_op([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
             [](const std::vector<ref::Arr>& in) { return ref::matmul(in[0], in[1]); },
             {random_arr({3, k}, -1, 1, 1), random_arr({k, 4}, -1, 1, 2)}, device(), gemm_options());
  }
}

TEST_P(MatmulTest, BatchedGradients) {
  check_op([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
           [](const std::vector<ref::Arr>& in) { return ref::matmul(in[0], in[1]); },
           {random_arr({3, 4, 33}, -1, 1, 3), random_arr({3, 33, 5}, -1, 1, 4)}, device(), gemm_options());
}

TEST_P(MatmulTest, GradientOfOneOperandOnly) {
  CheckOptions opt = gemm_options();
  for (bool first : {true, false}) {
    opt.differentiable = {first, !first};
    check_op([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
             [](const std::vector<ref::Arr>& in) { return ref::matmul(in[0], in[1]); },
             {random_arr({2, 2, 7}, -1, 1, 5), random_arr({2, 7, 3}, -1, 1, 6)}, device(), opt);
  }
}

TEST_P(MatmulTest, LargerForwardSweep) {
  for (int64_t m : {1, 17, 64})
    for (int64_t k : {1, 31, 65, 100})
      for (int64_t n : {1, 33, 96}) {
        ref::Arr a = random_arr({m, k}, -1, 1, 7), b = random_arr({k, n}, -1, 1, 8);
        expect_close(ref::matmul(a, b), matmul(from_ref(a, device()), from_ref(b, device())), kAccumAtol, kAccumRtol,
                     "matmul " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n));
      }
}

TEST_P(MatmulTest, StridedInputsAndTheirGradients) {
  // a = at^T and b = a slice with step 2: both reach the kernel through contiguous copies.
  ref::Arr at = random_arr({5, 3}, -1, 1, 9), bw = random_arr({5, 8}, -1, 1, 10);
  Tensor a_leaf = from_ref(at, device()).requires_grad_(), b_leaf = from_ref(bw, device()).requires_grad_();
  Tensor a = a_leaf.transpose(0, 1), b = b_leaf.slice(1, 0, 8, 2);
  Tensor c = matmul(a, b);
  ref::Arr a_ref = ref::permute(at, {1, 0}), b_ref = ref::slice(bw, 1, 0, 8, 2);
  expect_close(ref::matmul(a_ref, b_ref), c, kAccumAtol, kAccumRtol, "forward");
  sum(c).backward();
  // d sum(A B)/dA[i,k] = sum_j B[k,j]; d/dB[k,j] = sum_i A[i,k].
  std::vector<float> ga = a_leaf.grad().to_vector(), gb = b_leaf.grad().to_vector();
  for (int64_t k = 0; k < 5; ++k) {
    double row_b = 0, col_a = 0;
    for (int64_t j = 0; j < 4; ++j) row_b += ref::at(b_ref, {k, j});
    for (int64_t i = 0; i < 3; ++i) col_a += ref::at(a_ref, {i, k});
    for (int64_t i = 0; i < 3; ++i) EXPECT_NEAR(ga[k * 3 + i], row_b, kAccumAtol);
    for (int64_t j = 0; j < 8; ++j) EXPECT_NEAR(gb[k * 8 + j], j % 2 == 0 ? col_a : 0.0, kAccumAtol);
  }
}

TEST_P(MatmulTest, EmptyInnerDimensionGivesZeros) {
  Tensor c = matmul(Tensor::zeros({3, 0}, DType::f32, device()), Tensor::zeros({0, 4}, DType::f32, device()));
  EXPECT_EQ(c.shape(), (Shape{3, 4}));
  for (float v : c.to_vector()) EXPECT_EQ(v, 0.f);
}

TEST_P(MatmulTest, ShapeErrorsNameBothShapes) {
  auto t = [&](const Shape& s) { return Tensor::zeros(s, DType::f32, device()); };
  expect_error([&] { matmul(t({2, 3}), t({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error([&] { matmul(t({2, 3, 4}), t({3, 4, 5})); }, {"matmul", "[2, 3, 4]", "[3, 4, 5]"});
  expect_error([&] { matmul(t({2, 3, 4}), t({2, 5, 5})); }, {"matmul", "[2, 3, 4]", "[2, 5, 5]"});
  expect_error([&] { matmul(t({3, 4}), t({2, 4, 5})); }, {"matmul", "[3, 4]", "[2, 4, 5]"});
  expect_error([&] { matmul(t({4}), t({4})); }, {"matmul", "[4]"});
}

TEST_P(LinearTest, GradientsWithAndWithoutBias) {
  for (int64_t in : {1, 31, 33, 65})
    for (bool bias : {true, false}) {
      SCOPED_TRACE("in = " + std::to_string(in) + (bias ? " with bias" : " without bias"));
      std::vector<ref::Arr> inputs = {random_arr({3, in}, -1, 1, 11), random_arr({4, in}, -1, 1, 12)};
      if (bias) inputs.push_back(random_arr({4}, -1, 1, 13));
      check_op([](const std::vector<Tensor>& t) { return linear(t[0], t[1], t.size() > 2 ? t[2] : Tensor()); },
               [](const std::vector<ref::Arr>& a) { return ref::linear(a[0], a[1], a.size() > 2 ? a[2] : ref::Arr{}); },
               inputs, device(), gemm_options());
    }
}

TEST_P(LinearTest, LargerForward) {
  ref::Arr x = random_arr({37, 100}, -1, 1, 14), w = random_arr({65, 100}, -1, 1, 15), b = random_arr({65}, -1, 1, 16);
  expect_close(ref::linear(x, w, b), linear(from_ref(x, device()), from_ref(w, device()), from_ref(b, device())),
               kAccumAtol, kAccumRtol, "linear 37x100 -> 65");
}

TEST_P(LinearTest, ShapeErrorsNameBothShapes) {
  auto t = [&](const Shape& s) { return Tensor::zeros(s, DType::f32, device()); };
  expect_error([&] { linear(t({2, 3}), t({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  expect_error([&] { linear(t({2, 2, 3}), t({4, 3})); }, {"linear", "[2, 2, 3]", "[4, 3]"});
  expect_error([&] { linear(t({2, 3}), t({4, 3}), t({3})); }, {"linear", "bias", "[4, 3]", "[3]"});
}

LOWBIT_INSTANTIATE_DEVICES(MatmulTest);
LOWBIT_INSTANTIATE_DEVICES(LinearTest);

// The raw wrapper: every transpose combination with padded leading dimensions, into a
// NaN-poisoned C with beta = 0 (every element must be written), then beta = 1 accumulation.
TEST(GemmKernel, TransposeFlagsAndLeadingDimensions) {
  const int64_t M = 5, N = 7, K = 33, pad = 3;
  ref::Arr a = random_arr({M, K}, -1, 1, 21), b = random_arr({K, N}, -1, 1, 22);
  ref::Arr want = ref::matmul(a, b);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string("trans_a ") + (ta ? "1" : "0") + " trans_b " + (tb ? "1" : "0"));
      // Stored shapes with `pad` unused columns per row.
      int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
      std::vector<float> A(static_cast<size_t>(ar * (ac + pad)), 1e9f), B(static_cast<size_t>(br * (bc + pad)), 1e9f);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k)
          A[static_cast<size_t>(ta ? k * (ac + pad) + i : i * (ac + pad) + k)] = static_cast<float>(a.v[i * K + k]);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j)
          B[static_cast<size_t>(tb ? j * (bc + pad) + k : k * (bc + pad) + j)] = static_cast<float>(b.v[k * N + j]);
      std::vector<float> C(static_cast<size_t>(M * (N + pad)), std::nanf(""));
      cpu::gemm(ta, tb, M, N, K, 1.f, A.data(), ac + pad, B.data(), bc + pad, 0.f, C.data(), N + pad);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) EXPECT_NEAR(C[i * (N + pad) + j], want.v[i * N + j], kAccumAtol);
      for (int64_t i = 0; i < M; ++i) EXPECT_TRUE(std::isnan(C[i * (N + pad) + N])) << "wrote past N";
      cpu::gemm(ta, tb, M, N, K, 0.5f, A.data(), ac + pad, B.data(), bc + pad, 1.f, C.data(), N + pad);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) EXPECT_NEAR(C[i * (N + pad) + j], 1.5 * want.v[i * N + j], kAccumAtol);
    }
}

TEST(GemmKernel, BiasEpilogues) {
  std::vector<float> y = {1, 2, 3, 0, 4, 5, 6, 0};  // [2,3] with row stride 4
  const float bias[3] = {10, 20, 30};
  cpu::add_row_bias(y.data(), 4, bias, 2, 3);
  EXPECT_EQ(y, (std::vector<float>{11, 22, 33, 0, 14, 25, 36, 0}));
  float sums[3] = {1, 1, 1};
  cpu::column_sums(y.data(), 4, 2, 3, sums);
  EXPECT_EQ(sums[0], 25.f);
  EXPECT_EQ(sums[2], 69.f);
  cpu::column_sums(y.data(), 4, 2, 3, sums, true);
  EXPECT_EQ(sums[1], 94.f);
}

}  // namespace
}  // namespace lowbit::test
