// MLP builder.
#include "models/mlp.h"

#include "core/error.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"

namespace lowbit {

std::shared_ptr<Module> make_mlp(int64_t in_features, const std::vector<int64_t>& hidden, int64_t num_classes,
                                 Generator& gen, Device device) {
  LOWBIT_CHECK(in_features > 0 && num_classes > 0, "make_mlp: in_features (", in_features, ") and num_classes (",
               num_classes, ") must be positive");
  auto net = std::make_shared<Sequential>();
  net->push_back(std::make_shared<Flatten>());
  int64_t width = in_features;
  for (int64_t h : hidden) {
    LOWBIT_CHECK(h > 0, "make_mlp: hidden widths must be positive, got ", h);
    net->push_back(std::make_shared<Linear>(width, h, true, gen, device));
    net->push_back(std::make_shared<ReLU>());
    width = h;
  }
  net->push_back(std::make_shared<Linear>(width, num_classes, true, gen, device));
  return net;
}

}  // namespace lowbit
