// Helpers shared by the model builders: a Net context (factory + generator + device) with short
// constructors for the layers, output-size and width arithmetic, and the init pass over every
// conv/linear of a model.
#pragma once

#include <functional>
#include <memory>

#include "core/export.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/factory.h"
#include "layers/linear.h"
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

// Calls conv/linear for every Conv2d and Linear (or subclass) in the tree, in walk order.
LOWBIT_API void init_layers(Module& m, const std::function<void(Conv2d&)>& conv,
                            const std::function<void(Linear&)>& linear);

}  // namespace lowbit::models
