// The default (float) LayerFactory.
#include "layers/factory.h"

namespace lowbit {

const char* layer_role_name(LayerRole role) {
  switch (role) {
    case LayerRole::First: return "first";
    case LayerRole::Hidden: return "hidden";
    case LayerRole::Last: return "last";
  }
  return "?";
}

LayerFactory::~LayerFactory() = default;

std::shared_ptr<Conv2d> LayerFactory::make_conv(const Conv2dOptions& options, LayerRole, Generator& gen,
                                                Device device) {
  return std::make_shared<Conv2d>(options, gen, device);
}

std::shared_ptr<Linear> LayerFactory::make_linear(int64_t in_features, int64_t out_features, bool bias, LayerRole,
                                                  Generator& gen, Device device) {
  return std::make_shared<Linear>(in_features, out_features, bias, gen, device);
}

std::shared_ptr<LayerFactory> float_layers() {
  static const std::shared_ptr<LayerFactory> factory = std::make_shared<LayerFactory>();
  return factory;
}

}  // namespace lowbit
