// CUDA-vs-CPU agreement of the optimizer kernels: SGD (momentum, Nesterov, weight decay), Adam
// and AdamW over a few steps, gradient-norm clipping and weight clipping, on parameters of
// awkward sizes. The per-element math is shared (kernels/optim_math.h), so results agree to f32
// rounding. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/optim/adam.h"
#include "core/optim/clip.h"
#include "core/optim/sgd.h"
#include "core/tensor.h"
#include "tests/tolerances.h"

namespace lowbit::test {
namespace {

class CUDAOptimAgreement : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
};

Tensor random_cpu(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = u(rng);
  return Tensor::from_vector(v, shape);
}

void expect_agree(const Tensor& cpu, const Tensor& cuda, const std::string& what) {
  std::vector<float> w = cpu.to_vector(), g = cuda.to_vector();
  ASSERT_EQ(w.size(), g.size()) << what;
  for (size_t i = 0; i < w.size(); ++i)
    ASSERT_NEAR(w[i], g[i], kForwardAtol + kForwardRtol * std::abs(w[i])) << what << " element " << i;
}

using MakeOpt = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

// Runs three steps with the same gradients on CPU and CUDA copies of the same parameters.
void check_optimizer(const MakeOpt& make, const std::string& what) {
  const std::vector<Shape> shapes = {{7}, {33, 5}, {1}, {1031}};
  std::vector<Tensor> pc, pg;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Tensor p = random_cpu(shapes[i], static_cast<uint32_t>(i + 1));
    pc.push_back(p.clone().requires_grad_());
    pg.push_back(p.to(Device::cuda()).requires_grad_());
  }
  auto oc = make(pc), og = make(pg);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      Tensor g = random_cpu(shapes[i], static_cast<uint32_t>(100 * step + i));
      pc[i].set_grad(g);
      pg[i].set_grad(g.to(Device::cuda()));
    }
    oc->step();
    og->step();
    for (size_t i = 0; i < shapes.size(); ++i)
      expect_agree(pc[i], pg[i], what + " step " + std::to_string(step) + " param " + std::to_string(i));
  }
}

TEST_F(CUDAOptimAgreement, Sgd) {
  check_optimizer([](std::vector<Tensor> p) { return std::make_unique<SGD>(p, SgdOptions{.lr = 0.1f}); }, "sgd");
  check_optimizer(
      [](std::vector<Tensor> p) {
        return std::make_unique<SGD>(p, SgdOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-2f});
      },
      "sgd momentum");
  check_optimizer(
      [](std::vector<Tensor> p) {
        return std::make_unique<SGD>(p, SgdOptions{.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
      },
      "sgd nesterov");
}

TEST_F(CUDAOptimAgreement, AdamAndAdamW) {
  check_optimizer(
      [](std::vector<Tensor> p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 1e-2f, .weight_decay = 1e-2f}); },
      "adam");
  check_optimizer(
      [](std::vector<Tensor> p) { return std::make_unique<AdamW>(p, AdamOptions{.lr = 1e-2f, .weight_decay = 1e-2f}); },
      "adamw");
}

TEST_F(CUDAOptimAgreement, Clipping) {
  std::vector<Tensor> pc, pg;
  for (uint32_t i = 0; i < 3; ++i) {
    Tensor p = random_cpu({static_cast<int64_t>(1000 + 3 * i)}, i + 7);
    pc.push_back(p.clone().requires_grad_());
    pg.push_back(p.to(Device::cuda()).requires_grad_());
    Tensor g = random_cpu(p.shape(), i + 70);
    pc.back().set_grad(g);
    pg.back().set_grad(g.to(Device::cuda()));
  }
  const double nc = clip_grad_norm(pc, 1.0), ng = clip_grad_norm(pg, 1.0);
  EXPECT_NEAR(nc, ng, 1e-9 * nc);
  for (size_t i = 0; i < pc.size(); ++i) expect_agree(pc[i].grad(), pg[i].grad(), "clipped grad");
  {
    NoGradGuard no_grad;
    clip_weights(pc, -0.25f, 0.5f);
    clip_weights(pg, -0.25f, 0.5f);
  }
  for (size_t i = 0; i < pc.size(); ++i) expect_agree(pc[i], pg[i], "clipped weights");
}

}  // namespace
}  // namespace lowbit::test
