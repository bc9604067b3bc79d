// MLP builder.
#include "models/mlp.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"

namespace lowbit {

std::shared_ptr<Module> make_mlp(int64_t in_features, const std::vector<int64_t>& hidden, int64_t num_classes,
                                 Generator& gen, Device device, LayerFactory* layers) {
  LOWBIT_CHECK(in_features > 0 && num_classes > 0, "make_mlp: in_features (", in_features, ") and num_classes (",
               num_classes, ") must be positive");
  LayerFactory& factory = layers ? *layers : *float_layers();
  auto net = std::make_shared<Sequential>();
  net->push_back(std::make_shared<Flatten>());
  int64_t width = in_features;
  for (int64_t h : hidden) {
    LOWBIT_CHECK(h > 0, "make_mlp: hidden widths must be positive, got ", h);
    const LayerRole role = net->size() == 1 ? LayerRole::First : LayerRole::Hidden;  // after Flatten
    net->push_back(factory.make_linear(width, h, true, role, gen, device));
    net->push_back(std::make_shared<ReLU>());
    width = h;
  }
  // A single layer (no hidden) is both first and last: Last wins (it gives the logits).
  net->push_back(factory.make_linear(width, num_classes, true, LayerRole::Last, gen, device));
  return net;
}

}  // namespace lowbit
