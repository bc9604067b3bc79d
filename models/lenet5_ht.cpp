// LeNet-5 with BN + HardTanh builder.
#include "models/lenet5_ht.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_lenet5_ht(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "lenet5_ht");
  Net net(o, gen);
  const int64_t h = out_size(out_size(o.in_height, 5, 1, 2) / 2, 5, 1, 0) / 2;
  const int64_t w = out_size(out_size(o.in_width, 5, 1, 2) / 2, 5, 1, 0) / 2;
  LOWBIT_CHECK(h >= 1 && w >= 1, "lenet5_ht: input ", o.in_height, "x", o.in_width,
               " is too small (needs at least 12x12)");

  auto model = std::make_shared<Sequential>();
  model->push_back("conv1", net.conv(o.in_channels, 6, 5, 1, 2, false, LayerRole::First));
  model->push_back("pool1", std::make_shared<MaxPool2d>(2));
  model->push_back("bn1", net.bn2d(6));
  model->push_back("act1", std::make_shared<HardTanh>());
  model->push_back("conv2", net.conv(6, 16, 5, 1, 0, false));
  model->push_back("pool2", std::make_shared<MaxPool2d>(2));
  model->push_back("bn2", net.bn2d(16));
  model->push_back("act2", std::make_shared<HardTanh>());
  model->push_back("flatten", std::make_shared<Flatten>());
  model->push_back("fc1", net.linear(16 * h * w, 120, false));
  model->push_back("bn3", net.bn1d(120));
  model->push_back("act3", std::make_shared<HardTanh>());
  model->push_back("fc2", net.linear(120, 84, false));
  model->push_back("bn4", net.bn1d(84));
  model->push_back("act4", std::make_shared<HardTanh>());
  model->push_back("fc3", net.linear(84, o.num_classes, true, LayerRole::Last));
  return model;
}

}  // namespace lowbit
