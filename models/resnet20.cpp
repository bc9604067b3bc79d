// ResNet-20 (CIFAR, option-A shortcuts, BatchNorm1d head) builder.
#include "models/resnet20.h"

#include <algorithm>
#include <string>

#include "layers/activation.h"
#include "layers/init.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/basic_block.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_resnet20(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "resnet20");
  Net net(o, gen);
  // Widths rounded to multiples of 4 so the option-A padding (planes/4 per side) is exact.
  auto width = [&](int64_t c) { return std::max<int64_t>(4, (scaled(c, o.width_mult) + 2) / 4 * 4); };
  const int64_t w1 = width(16), w2 = 2 * w1, w3 = 4 * w1;

  auto model = std::make_shared<Sequential>();
  model->push_back("conv1", net.conv(o.in_channels, w1, 3, 1, 1, false, LayerRole::First));
  model->push_back("bn1", net.bn2d(w1));
  model->push_back("relu", std::make_shared<ReLU>());
  int64_t in_planes = w1;
  const int64_t planes[3] = {w1, w2, w3};
  for (int stage = 0; stage < 3; ++stage) {
    auto layer = std::make_shared<Sequential>();
    for (int b = 0; b < 3; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      layer->push_back(std::make_shared<BasicBlock>(net, in_planes, planes[stage], stride, BasicBlock::Shortcut::A));
      in_planes = planes[stage];
    }
    model->push_back("layer" + std::to_string(stage + 1), layer);
  }
  model->push_back("pool", std::make_shared<GlobalAvgPool>());
  model->push_back("bn2", net.bn1d(w3));
  model->push_back("linear", net.linear(w3, o.num_classes, true, LayerRole::Last));

  init_layers(
      *model, [&](Conv2d& c) { init::kaiming_normal_(c.weight(), gen); },
      [&](Linear& l) { init::kaiming_normal_(l.weight(), gen); });
  return model;
}

}  // namespace lowbit
