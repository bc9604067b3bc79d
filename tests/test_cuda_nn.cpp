// CUDA-vs-CPU agreement of the library-backed and NN ops (matmul/linear on cuBLAS, conv2d on
// cuDNN, batch norm, pooling, softmax/cross-entropy, pad/cat) on seeded random inputs: the same
// inputs go through both devices, forward outputs and every input gradient are compared. Ops whose
// CUDA kernels mirror the CPU loop's order (pooling, copies) must match exactly; library-backed
// and reduced ones within the accumulation tolerances. Skipped without a GPU (suite name carries
// "CUDA", so ctest labels these tests gpu).
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "core/math_mode.h"
#include "core/ops/conv.h"
#include "core/ops/linalg.h"
#include "core/ops/loss.h"
#include "core/ops/norm.h"
#include "core/ops/pool.h"
#include "core/ops/shape.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

class CUDAvsCPU : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
};

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  return from_ref(random_arr(shape, lo, hi, seed));
}

// Runs f on CPU copies and on CUDA copies of `inputs` (leaves requiring grad), backpropagates the
// same random upstream gradient, and compares the output and each input's gradient.
void expect_agree(const std::vector<Tensor>& inputs, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                  double atol, double rtol, const std::string& what, bool grads = true) {
  auto run = [&](Device d, std::vector<Tensor>& leaves) {
    for (const Tensor& t : inputs) {
      Tensor l = t.to(d).detach();
      if (grads && t.dtype() == DType::f32) l.requires_grad_(true);
      leaves.push_back(l);
    }
    return f(leaves);
  };
  std::vector<Tensor> cpu_in, gpu_in;
  Tensor y_cpu = run(Device::cpu(), cpu_in), y_gpu = run(Device::cuda(), gpu_in);
  ASSERT_TRUE(y_gpu.device().is_cuda()) << what;
  expect_close(to_ref(y_cpu), to_ref(y_gpu), atol, rtol, what + " forward");
  if (!grads) return;
  Tensor gy = random_tensor(y_cpu.shape(), 99);
  y_cpu.backward(gy);
  y_gpu.backward(gy.to(Device::cuda()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu_in[i].requires_grad()) continue;
    ASSERT_TRUE(gpu_in[i].grad().defined()) << what << ": no gradient for input " << i;
    expect_close(to_ref(cpu_in[i].grad()), to_ref(gpu_in[i].grad()), atol, rtol,
                 what + " gradient of input " + std::to_string(i));
  }
}

TEST_F(CUDAvsCPU, MatmulAndBatchedMatmul) {
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 33, 5}, {64, 65, 31}, {128, 256, 96}}) {
    expect_agree({random_tensor({m, k}, 1), random_tensor({k, n}, 2)},
                 [](const std::vector<Tensor>& t) { return matmul(t[0], t[1]); }, kAccumAtol, kAccumRtol,
                 "matmul " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n));
    expect_agree({random_tensor({3, m, k}, 3), random_tensor({3, k, n}, 4)},
                 [](const std::vector<Tensor>& t) { return matmul(t[0], t[1]); }, kAccumAtol, kAccumRtol,
                 "batched matmul");
  }
}

TEST_F(CUDAvsCPU, LinearWithBias) {
  expect_agree({random_tensor({37, 70}, 5), random_tensor({19, 70}, 6), random_tensor({19}, 7)},
               [](const std::vector<Tensor>& t) { return linear(t[0], t[1], t[2]); }, kAccumAtol, kAccumRtol,
               "linear");
}

TEST_F(CUDAvsCPU, Conv2dStridesPaddingGroups) {
  struct Case {
    Shape x, w;
    Conv2dParams p;
  };
  std::vector<Case> cases = {
      {{2, 9, 9, 3}, {8, 3, 3, 3}, {1, 1, 1, 1, 1}},     // 3x3 same
      {{2, 10, 11, 8}, {16, 3, 3, 8}, {2, 2, 1, 1, 1}},  // stride 2
      {{3, 8, 8, 16}, {16, 1, 1, 16}, {1, 1, 0, 0, 1}},  // 1x1
      {{2, 7, 7, 8}, {8, 3, 3, 2}, {1, 1, 1, 1, 4}},     // groups
      {{2, 7, 7, 8}, {8, 3, 3, 1}, {1, 2, 1, 0, 8}},     // depthwise, uneven stride/padding
      {{1, 6, 5, 4}, {6, 5, 2, 4}, {1, 1, 2, 0, 1}},     // non-square kernel
  };
  int i = 0;
  for (const Case& c : cases) {
    expect_agree({random_tensor(c.x, 10 + i), random_tensor(c.w, 20 + i), random_tensor({c.w[0]}, 30 + i)},
                 [p = c.p](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2], p); }, kAccumAtol,
                 kAccumRtol, "conv2d case " + std::to_string(i));
    ++i;
  }
}

TEST_F(CUDAvsCPU, Conv2dTf32IsOptIn) {
  EXPECT_FALSE(allow_tf32());  // the default: full f32
  set_allow_tf32(true);
  expect_agree({random_tensor({2, 8, 8, 16}, 40), random_tensor({16, 3, 3, 16}, 41)},
               [](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], Tensor(), {1, 1, 1, 1, 1}); }, 2e-2,
               2e-2, "conv2d with TF32", false);
  set_allow_tf32(false);
}

TEST_F(CUDAvsCPU, BatchNormTrainAndEval) {
  for (bool training : {true, false}) {
    Shape xs{4, 5, 3, 7};
    Tensor rm_c = random_tensor({7}, 50), rv_c = random_tensor({7}, 51, 0.5, 1.5);
    Tensor rm_g = rm_c.to(Device::cuda()), rv_g = rv_c.to(Device::cuda());
    expect_agree({random_tensor(xs, 52, -2.0, 3.0), random_tensor({7}, 53), random_tensor({7}, 54)},
                 [&](const std::vector<Tensor>& t) {
                   bool gpu = t[0].device().is_cuda();
                   return batch_norm(t[0], t[1], t[2], gpu ? rm_g : rm_c, gpu ? rv_g : rv_c, training, 0.1f, 1e-5f);
                 },
                 kAccumAtol, kAccumRtol, training ? "batch_norm training" : "batch_norm evaluation");
    expect_close(to_ref(rm_c), to_ref(rm_g), kForwardAtol, kForwardRtol, "running mean");
    expect_close(to_ref(rv_c), to_ref(rv_g), kForwardAtol, kForwardRtol, "running var");
  }
}

TEST_F(CUDAvsCPU, PoolingMatchesExactly) {
  // Ties: values on a coarse grid make equal maxima common (first-max semantics).
  Tensor x = from_ref([] {
    ref::Arr a = random_arr({2, 9, 8, 5}, -1.0, 1.0, 60);
    for (double& v : a.v) v = static_cast<double>(static_cast<int>(v * 3.0)) / 3.0;
    return a;
  }());
  for (Pool2dParams p : {Pool2dParams{2, 2, 2, 2, 0, 0}, Pool2dParams{3, 3, 2, 2, 1, 1}, Pool2dParams{3, 2, 1, 2, 1, 0}}) {
    expect_agree({x}, [p](const std::vector<Tensor>& t) { return max_pool2d(t[0], p); }, 0, 0, "max_pool2d");
    for (bool include : {true, false})
      expect_agree({x}, [p, include](const std::vector<Tensor>& t) { return avg_pool2d(t[0], p, include); }, 0, 0,
                   "avg_pool2d");
  }
  expect_agree({x}, [](const std::vector<Tensor>& t) { return global_avg_pool(t[0]); }, 0, 0, "global_avg_pool");
}

TEST_F(CUDAvsCPU, SoftmaxAlongEveryAxis) {
  Tensor x = random_tensor({3, 4, 37}, 70, -4.0, 4.0);
  for (int64_t axis : {0, 1, 2}) {
    expect_agree({x}, [axis](const std::vector<Tensor>& t) { return softmax(t[0], axis); }, kForwardAtol,
                 kForwardRtol, "softmax axis " + std::to_string(axis));
    expect_agree({x}, [axis](const std::vector<Tensor>& t) { return log_softmax(t[0], axis); }, kForwardAtol,
                 kForwardRtol, "log_softmax axis " + std::to_string(axis));
  }
}

TEST_F(CUDAvsCPU, CrossEntropyAndBadLabel) {
  Tensor logits = random_tensor({33, 10}, 80, -3.0, 3.0);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3,
                                                           2, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3, 3},
                                      {33});
  for (float smoothing : {0.f, 0.1f}) {
    Tensor lab_g = labels.to(Device::cuda());
    expect_agree({logits},
                 [&](const std::vector<Tensor>& t) {
                   return cross_entropy(t[0], t[0].device().is_cuda() ? lab_g : labels, smoothing);
                 },
                 kForwardAtol, kForwardRtol, "cross_entropy");
  }
  Tensor bad = Tensor::from_vector(std::vector<int32_t>{1, 2, 10, -1}, {4});
  EXPECT_THROW(cross_entropy(random_tensor({4, 10}, 81).to(Device::cuda()), bad.to(Device::cuda())), Error);
}

TEST_F(CUDAvsCPU, PadAndCatMatchExactly) {
  Tensor x = random_tensor({3, 4, 5}, 90);
  expect_agree({x}, [](const std::vector<Tensor>& t) { return pad(t[0], {{1, 0}, {2, 3}, {0, 1}}, -7.5f); }, 0, 0,
               "pad");
  expect_agree({x, random_tensor({3, 2, 5}, 91), random_tensor({3, 1, 5}, 92)},
               [](const std::vector<Tensor>& t) { return cat({t[0], t[1], t[2]}, 1); }, 0, 0, "cat");
  Tensor xi = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor pi = pad(xi.to(Device::cuda()), {{0, 1}, {1, 1}}, 9.f);
  EXPECT_EQ(pi.to(Device::cpu()).to_vector(), pad(xi, {{0, 1}, {1, 1}}, 9.f).to_vector());
}

}  // namespace
}  // namespace lowbit::test
