// LeNet-5 builder.
#include "models/lenet5.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_lenet5(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "lenet5");
  Net net(o, gen);
  const int64_t h = out_size(out_size(o.in_height, 5, 1, 2) / 2, 5, 1, 0) / 2;
  const int64_t w = out_size(out_size(o.in_width, 5, 1, 2) / 2, 5, 1, 0) / 2;
  LOWBIT_CHECK(h >= 1 && w >= 1, "lenet5: input ", o.in_height, "x", o.in_width,
               " is too small (needs at least 12x12)");

  auto model = std::make_shared<Sequential>();
  model->push_back("conv1", net.conv(o.in_channels, 6, 5, 1, 2, true, LayerRole::First));
  model->push_back("relu1", std::make_shared<ReLU>());
  model->push_back("pool1", std::make_shared<MaxPool2d>(2));
  model->push_back("conv2", net.conv(6, 16, 5, 1, 0, true));
  model->push_back("relu2", std::make_shared<ReLU>());
  model->push_back("pool2", std::make_shared<MaxPool2d>(2));
  model->push_back("flatten", std::make_shared<Flatten>());
  model->push_back("fc1", net.linear(16 * h * w, 120, true));
  model->push_back("relu3", std::make_shared<ReLU>());
  model->push_back("fc2", net.linear(120, 84, true));
  model->push_back("relu4", std::make_shared<ReLU>());
  model->push_back("fc3", net.linear(84, o.num_classes, true, LayerRole::Last));
  return model;
}

}  // namespace lowbit
