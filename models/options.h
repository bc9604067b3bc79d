// ModelOptions: what every model builder takes besides the Generator (passed beside it, as
// make_model(name, options, gen), so one generator can seed several things in turn): the input
// (channels and size, NHWC), the class count, width knobs, the layer factory (float or quantized
// layers) and the device.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/device.h"
#include "layers/factory.h"

namespace lowbit {

struct ModelOptions {
  int64_t in_channels = 1, in_height = 28, in_width = 28;
  int64_t num_classes = 10;
  std::vector<int64_t> hidden = {256};  // hidden widths (mlp)
  // Channel multiplier for resnet20, resnet18, vgg_small, minw_a..d (convs) and mobilenet_v2 (1 = the paper's net).
  float width_mult = 1.f;
  std::shared_ptr<LayerFactory> layers;  // builds convs and linears; null = float_layers()
  Device device = Device::cpu();
};

}  // namespace lowbit
