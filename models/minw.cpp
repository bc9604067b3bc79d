// MINW-Net ConvNets A–D builder.
#include "models/minw.h"

#include <string>

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_minw(char variant, const ModelOptions& o, Generator& gen) {
  using namespace models;
  LOWBIT_CHECK(variant >= 'a' && variant <= 'd', "make_minw: variant must be 'a', 'b', 'c' or 'd', got '", variant,
               "'");
  const std::string name = std::string("minw_") + variant;
  check_options(o, name.c_str());
  Net net(o, gen);
  const int64_t c = scaled(variant == 'a' ? 128 : 64, o.width_mult);  // first conv width; then 2c, 4c
  const int64_t fc = variant <= 'b' ? 1024 : variant == 'c' ? 512 : 256;

  auto model = std::make_shared<Sequential>();
  const std::array<int64_t, 6> widths = {c, c, 2 * c, 2 * c, 4 * c, 4 * c};
  const FeatureSize f = push_vgg_convs(
      *model, net, o, widths, "act", [] { return std::make_shared<HardTanh>(); }, name);
  model->push_back("flatten", std::make_shared<Flatten>());
  int64_t features = f.channels * f.height * f.width;
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(6 + i);
    model->push_back("fc" + n, net.linear(features, fc, false));
    model->push_back("bn" + n, net.bn1d(fc));
    model->push_back("act" + n, std::make_shared<HardTanh>());
    features = fc;
  }
  model->push_back("fc8", net.linear(features, o.num_classes, false, LayerRole::Last));
  model->push_back("bn8", net.bn1d(o.num_classes));

  init_layers(
      *model, [&](Conv2d& conv) { init::xavier_uniform_(conv.weight(), gen); },
      [&](Linear& l) { init::xavier_uniform_(l.weight(), gen); });
  return model;
}

}  // namespace lowbit
