// VGG-Small builder.
#include "models/vgg_small.h"

#include <string>

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/common.h"

namespace lowbit {

std::shared_ptr<Module> make_vgg_small(const ModelOptions& o, Generator& gen) {
  using namespace models;
  check_options(o, "vgg_small");
  Net net(o, gen);
  const int64_t widths[6] = {scaled(128, o.width_mult), scaled(128, o.width_mult), scaled(256, o.width_mult),
                             scaled(256, o.width_mult), scaled(512, o.width_mult), scaled(512, o.width_mult)};
  auto model = std::make_shared<Sequential>();
  int64_t in = o.in_channels, h = o.in_height, w = o.in_width;
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    model->push_back("conv" + n,
                     net.conv(in, widths[i], 3, 1, 1, false, i == 0 ? LayerRole::First : LayerRole::Hidden));
    if (i % 2 == 1) {
      model->push_back("pool" + n, std::make_shared<MaxPool2d>(2));
      h /= 2;
      w /= 2;
    }
    model->push_back("bn" + n, net.bn2d(widths[i]));
    model->push_back("relu" + n, std::make_shared<ReLU>());
    in = widths[i];
  }
  LOWBIT_CHECK(h >= 1 && w >= 1, "vgg_small: input ", o.in_height, "x", o.in_width,
               " is too small for three 2x2 max-pools (needs at least 8x8)");
  model->push_back("flatten", std::make_shared<Flatten>());
  model->push_back("fc", net.linear(in * h * w, o.num_classes, true, LayerRole::Last));

  init_layers(
      *model, [&](Conv2d& c) { init::kaiming_normal_(c.weight(), gen, init::FanMode::Out); },
      [&](Linear& l) {
        init::normal_(l.weight(), gen, 0.f, 0.01f);
        if (l.bias().defined()) init::constant_(l.bias(), 0.f);
      });
  return model;
}

}  // namespace lowbit
