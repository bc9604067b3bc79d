// Sequential container: registration under index names and the chained forward.
#include "layers/sequential.h"

#include <string>

#include "core/error.h"

namespace lowbit {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& layers) {
  for (const auto& layer : layers) push_back(layer);
}

Sequential& Sequential::push_back(std::shared_ptr<Module> layer) {
  register_module(std::to_string(size()), std::move(layer));
  return *this;
}

Sequential& Sequential::push_back(const std::string& name, std::shared_ptr<Module> layer) {
  register_module(name, std::move(layer));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, layer] : children()) h = layer->forward(h);
  return h;
}

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  LOWBIT_CHECK(i < size(), "Sequential: index ", i, " out of range (size ", size(), ")");
  return children()[i].second;
}

}  // namespace lowbit
