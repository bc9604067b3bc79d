// bnn_lenet builder.
#include "models/bnn_lenet.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_bnn_lenet(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "bnn_lenet");
  const int64_t h = o.in_height / 4, w = o.in_width / 4;
  LOWBIT_CHECK(h >= 1 && w >= 1, "bnn_lenet: input ", o.in_height, "x", o.in_width,
               " is too small for two 2x2 max-pools (needs at least 4x4)");
  Net net(o, gen);
  const int64_t c = scaled(32, o.width_mult);

  auto model = std::make_shared<Sequential>();
  auto block = [&](const std::string& n, std::shared_ptr<Module> layer, std::shared_ptr<Module> bn, bool pool) {
    model->push_back("conv" + n, std::move(layer));
    model->push_back("bn" + n, std::move(bn));
    model->push_back("act" + n, std::make_shared<HardTanh>());
    if (pool) model->push_back("pool" + n, std::make_shared<MaxPool2d>(2));
  };
  block("1", net.conv(o.in_channels, c, 3, 1, 1, false, LayerRole::First), net.bn2d(c), true);
  block("2", net.conv(c, 2 * c, 3, 1, 1, false), net.bn2d(2 * c), true);
  block("3", net.conv(2 * c, 2 * c, 3, 1, 1, false), net.bn2d(2 * c), false);
  model->push_back("flatten", std::make_shared<Flatten>());
  model->push_back("fc4", net.linear(2 * c * h * w, 8 * c, false));
  model->push_back("bn4", net.bn1d(8 * c));
  model->push_back("act4", std::make_shared<HardTanh>());
  model->push_back("fc5", net.linear(8 * c, o.num_classes, false, LayerRole::Last));
  model->push_back("bn5", net.bn1d(o.num_classes));

  init_layers(
      *model, [&](Conv2d& conv) { init::xavier_uniform_(conv.weight(), gen); },
      [&](Linear& l) { init::xavier_uniform_(l.weight(), gen); });
  return model;
}

}  // namespace lowbit
