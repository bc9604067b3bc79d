// MobileNet-V2 (CIFAR-size) builder and its inverted-residual block.
#include "models/mobilenet_v2.h"

#include <algorithm>
#include <cmath>

#include "core/ops/elementwise.h"
#include "layers/activation.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

namespace {

using namespace models;

// torchvision's _make_divisible: nearest multiple of 8, at least 8, never below 90% of v.
int64_t divisible8(double v) {
  int64_t r = std::max<int64_t>(8, static_cast<int64_t>(v + 4) / 8 * 8);
  if (static_cast<double>(r) < 0.9 * v) r += 8;
  return r;
}

class InvertedResidual : public Module {
 public:
  InvertedResidual(Net& net, int64_t in, int64_t out, int64_t stride, int64_t expand)
      : residual_(stride == 1 && in == out) {
    const int64_t hidden = in * expand;
    auto body = std::make_shared<Sequential>();
    if (expand != 1) {
      body->push_back("conv1", net.conv(in, hidden, 1, 1, 0, false));
      body->push_back("bn1", net.bn2d(hidden));
      body->push_back("relu1", std::make_shared<ReLU>());
    }
    body->push_back("conv2", net.conv(hidden, hidden, 3, stride, 1, false, LayerRole::Hidden, hidden));
    body->push_back("bn2", net.bn2d(hidden));
    body->push_back("relu2", std::make_shared<ReLU>());
    body->push_back("conv3", net.conv(hidden, out, 1, 1, 0, false));
    body->push_back("bn3", net.bn2d(out));
    body_ = register_module("body", body);
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = body_->forward(x);
    return residual_ ? y + x : y;
  }

 private:
  bool residual_;
  std::shared_ptr<Module> body_;
};

}  // namespace

std::shared_ptr<Module> make_mobilenet_v2(const ModelOptions& o, Generator& gen) {
  check_options(o, "mobilenet_v2");
  Net net(o, gen);
  struct Stage {
    int64_t t, c, n, s;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  const int64_t stem = divisible8(32 * o.width_mult);
  const int64_t last = divisible8(1280 * std::max(1.f, o.width_mult));

  auto model = std::make_shared<Sequential>();
  model->push_back("conv1", net.conv(o.in_channels, stem, 3, 1, 1, false, LayerRole::First));
  model->push_back("bn1", net.bn2d(stem));
  model->push_back("relu1", std::make_shared<ReLU>());
  auto layers = std::make_shared<Sequential>();
  int64_t in = stem;
  for (const Stage& st : stages) {
    const int64_t out = divisible8(static_cast<double>(st.c) * o.width_mult);
    for (int64_t i = 0; i < st.n; ++i) {
      layers->push_back(std::make_shared<InvertedResidual>(net, in, out, i == 0 ? st.s : 1, st.t));
      in = out;
    }
  }
  model->push_back("layers", layers);
  model->push_back("conv2", net.conv(in, last, 1, 1, 0, false));
  model->push_back("bn2", net.bn2d(last));
  model->push_back("relu2", std::make_shared<ReLU>());
  model->push_back("pool", std::make_shared<GlobalAvgPool>());
  model->push_back("linear", net.linear(last, o.num_classes, true, LayerRole::Last));

  init_vgg_style(*model, gen);
  return model;
}

}  // namespace lowbit
