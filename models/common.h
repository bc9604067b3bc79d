// Helpers shared by the model builders: a Net context (factory + generator + device) with short
// constructors for the layers, output-size and width arithmetic, the VGG-style conv stack of
// VGG-Small and MINW-Net, and the init passes over every conv/linear of a model.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "core/export.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/factory.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "models/options.h"

namespace lowbit::models {

struct LOWBIT_API Net {
  LayerFactory& layers;
  Generator& gen;
  Device device;

  Net(const ModelOptions& o, Generator& g);
  std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias,
                               LayerRole role = LayerRole::Hidden, int64_t groups = 1);
  std::shared_ptr<Linear> linear(int64_t in, int64_t out, bool bias, LayerRole role = LayerRole::Hidden);
  std::shared_ptr<BatchNorm2d> bn2d(int64_t channels);
  std::shared_ptr<BatchNorm1d> bn1d(int64_t channels);
};

// Spatial output size of a conv/pool: floor((size + 2·pad - kernel) / stride) + 1.
LOWBIT_API int64_t out_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding);
// max(1, round(channels · mult)).
LOWBIT_API int64_t scaled(int64_t channels, float mult);
// Checks the options every model needs (positive sizes and class count, width_mult > 0).
LOWBIT_API void check_options(const ModelOptions& o, const char* model);

// Channels, height and width of a feature map.
struct FeatureSize {
  int64_t channels, height, width;
};

// Appends the VGG-style stack of VGG-Small and MINW-Net to `model`: for each width a 3x3 conv
// (stride 1, padding 1, no bias; LayerRole::First for the first), a 2x2 max-pool after every
// second conv, then BN and the activation `act()`, named conv<i>, pool<i>, bn<i>, <act_name><i>.
// Checks that the input survives the three pools (errors start with `model_name`); returns the
// output feature size.
LOWBIT_API FeatureSize push_vgg_convs(Sequential& model, Net& net, const ModelOptions& o,
                                      const std::array<int64_t, 6>& widths, const std::string& act_name,
                                      const std::function<std::shared_ptr<Module>()>& act,
                                      const std::string& model_name);

// Calls conv/linear for every Conv2d and Linear (or subclass) in the tree, in walk order.
LOWBIT_API void init_layers(Module& m, const std::function<void(Conv2d&)>& conv,
                            const std::function<void(Linear&)>& linear);

// torchvision's VGG / MobileNet-V2 init: conv weights Kaiming-normal (fan-out), linear weights
// N(0, 0.01) and linear biases 0.
LOWBIT_API void init_vgg_style(Module& m, Generator& gen);

}  // namespace lowbit::models
