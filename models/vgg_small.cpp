// VGG-Small builder.
#include "models/vgg_small.h"

#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_vgg_small(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "vgg_small");
  Net net(o, gen);
  const std::array<int64_t, 6> widths = {scaled(128, o.width_mult), scaled(128, o.width_mult),
                                         scaled(256, o.width_mult), scaled(256, o.width_mult),
                                         scaled(512, o.width_mult), scaled(512, o.width_mult)};
  auto model = std::make_shared<Sequential>();
  const FeatureSize f = push_vgg_convs(
      *model, net, o, widths, "relu", [] { return std::make_shared<ReLU>(); }, "vgg_small");
  model->push_back("flatten", std::make_shared<Flatten>());
  model->push_back("fc", net.linear(f.channels * f.height * f.width, o.num_classes, true, LayerRole::Last));
  init_vgg_style(*model, gen);
  return model;
}

}  // namespace lowbit
