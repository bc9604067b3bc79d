// ResNet-18 (torchvision BasicBlock layout; CIFAR or ImageNet stem by input size) builder.
#include "models/resnet18.h"

#include <algorithm>
#include <string>

#include "layers/activation.h"
#include "layers/init.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/basic_block.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_resnet18(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "resnet18");
  Net net(o, gen);
  const int64_t w = scaled(64, o.width_mult);

  auto model = std::make_shared<Sequential>();
  const bool imagenet_stem = std::min(o.in_height, o.in_width) > kResnet18CifarStemMaxSide;
  if (imagenet_stem) model->push_back("conv1", net.conv(o.in_channels, w, 7, 2, 3, false, LayerRole::First));
  else model->push_back("conv1", net.conv(o.in_channels, w, 3, 1, 1, false, LayerRole::First));
  model->push_back("bn1", net.bn2d(w));
  model->push_back("relu", std::make_shared<ReLU>());
  if (imagenet_stem) model->push_back("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  int64_t in_planes = w;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = w << stage;
    auto layer = std::make_shared<Sequential>();
    for (int b = 0; b < 2; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      layer->push_back(std::make_shared<BasicBlock>(net, in_planes, planes, stride, BasicBlock::Shortcut::B));
      in_planes = planes;
    }
    model->push_back("layer" + std::to_string(stage + 1), layer);
  }
  model->push_back("avgpool", std::make_shared<GlobalAvgPool>());
  model->push_back("fc", net.linear(in_planes, o.num_classes, true, LayerRole::Last));

  init_layers(
      *model, [&](Conv2d& c) { init::kaiming_normal_(c.weight(), gen, init::FanMode::Out); }, [](Linear&) {});
  return model;
}

}  // namespace lowbit
