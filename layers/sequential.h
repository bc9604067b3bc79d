// Sequential: runs its children in order; they are named "0", "1", ... as in PyTorch, so the
// parameters of the second layer are "1.weight" and "1.bias" — or by the names given to
// push_back(name, layer), so that a model's state-dict keys read "conv1.weight", "bn1.bias".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& layers);

  Sequential& push_back(std::shared_ptr<Module> layer);  // appends under the next index
  Sequential& push_back(const std::string& name, std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
};

}  // namespace lowbit
