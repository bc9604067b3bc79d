// LayerFactory: the one hook through which models build their convolutions and linear layers, so
// a quantization method can swap in its own layers without touching the model code. Each call
// says the layer's role: the first layer (it sees the raw image) and the last one (it gives the
// logits) are kept at full precision by most papers; the factory decides. The default factory
// builds float Conv2d/Linear. Factories return Conv2d/Linear (quantized layers derive from them),
// so a model's init pass finds every layer by dynamic_cast.
#pragma once

#include <cstdint>
#include <memory>

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/conv2d.h"
#include "layers/linear.h"

namespace lowbit {

enum class LayerRole { First, Hidden, Last };
LOWBIT_API const char* layer_role_name(LayerRole role);  // "first", "hidden", "last"

class LOWBIT_API LayerFactory {
 public:
  virtual ~LayerFactory();
  virtual std::shared_ptr<Conv2d> make_conv(const Conv2dOptions& options, LayerRole role, Generator& gen,
                                            Device device);
  virtual std::shared_ptr<Linear> make_linear(int64_t in_features, int64_t out_features, bool bias, LayerRole role,
                                              Generator& gen, Device device);
};

// The float factory (plain Conv2d and Linear), shared.
LOWBIT_API std::shared_ptr<LayerFactory> float_layers();

}  // namespace lowbit
