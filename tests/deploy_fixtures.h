// Test helpers for the deploy tests (binary and multi-bit): a zoo model built with a quantization spec on small
// random images, a few training steps (which run every quantizer's first-batch initialization and
// move the weights, batch norms and quantizer parameters), weights spread for AQE, and an op's
// index by layer name.
#pragma once

#include <memory>
#include <string>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/optim/adam.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "models/registry.h"
#include "quant/qfactory.h"
#include "tools/deploy/export.h"

namespace lowbit::test {

struct DeployNet {
  std::shared_ptr<Module> model;
  deploy::ExportInfo info;
};

inline DeployNet build_deploy_net(const std::string& name, int64_t side, const QuantSpec& spec, float width = 0.25f,
                                  uint64_t seed = 3) {
  ModelOptions o;
  o.in_channels = 1;
  o.in_height = o.in_width = side;
  o.width_mult = width;
  o.layers = std::make_shared<QuantLayerFactory>(spec);
  Generator gen(seed);
  DeployNet n{make_model(name, o, gen), {}};
  n.info = {name, "random", 1, side, side, o.num_classes, nlohmann::json::object()};
  return n;
}

// Adam steps on random N(0, 1) images and labels; leaves the model in eval mode.
inline void train_deploy_net(Module& model, int64_t side, int steps, uint64_t seed) {
  model.train();
  Adam opt(model.parameters(), {.lr = 1e-2f});
  Generator gen(seed);
  for (int s = 0; s < steps; ++s) {
    Tensor x = Tensor::randn({16, side, side, 1}, Device::cpu(), &gen);
    Tensor y = Tensor::randint(0, 10, {16}, Device::cpu(), &gen);
    opt.zero_grad();
    cross_entropy(model(x), y).backward();
    opt.step();
  }
  model.eval();
}

// Every quantized layer's weights redrawn as clamp(N(0, ½²), −1, 1): spread over [−1, 1] as a
// MINW-Net's clipped weights end up, so that AQE's fixed-threshold levels (±¼, ±½, ±1) all occur
// (its small initial weights quantize mostly to 0 at 3 bits).
inline void spread_quantized_weights(Module& model, uint64_t seed) {
  NoGradGuard no_grad;
  Generator gen(seed);
  for (auto& [name, layer] : model.named_modules()) {
    auto* q = dynamic_cast<QuantizedLayer*>(layer);
    auto* conv = dynamic_cast<Conv2d*>(layer);
    auto* lin = dynamic_cast<Linear*>(layer);
    if (!q || !q->weight_quantizer() || !(conv || lin)) continue;
    Tensor w = conv ? conv->weight() : lin->weight();
    w.copy_(clamp(mul(Tensor::randn(w.shape(), Device::cpu(), &gen), 0.5f), -1.f, 1.f));
  }
}

// The index of the op named `name` in the graph, or -1.
inline int64_t op_index(const deploy::Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace lowbit::test
