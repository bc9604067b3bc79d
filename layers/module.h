// Module: the base of every layer and model. A module owns named parameters (leaf tensors that
// require grad) and named child modules, both kept in registration order; named_parameters()
// walks the tree and gives dotted names ("0.weight", "features.3.bias") as PyTorch does.
// train(bool) sets the training flag on the whole tree (dropout, batch norm read it).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

class LOWBIT_API Module {
 public:
  using NamedTensor = std::pair<std::string, Tensor>;
  using NamedModule = std::pair<std::string, std::shared_ptr<Module>>;

  Module() = default;
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Every parameter of this module and its descendants, depth-first in registration order.
  std::vector<Tensor> parameters() const;
  std::vector<NamedTensor> named_parameters() const;  // dotted names
  const std::vector<NamedModule>& children() const { return children_; }
  int64_t num_parameters() const;  // total element count

  // Training flag for this module and every descendant.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

 protected:
  // Registers `t` under `name` (non-empty, no '.', unique in this module), marks it as requiring
  // grad and returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor t);
  std::shared_ptr<Module> register_module(const std::string& name, std::shared_ptr<Module> m);

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, std::vector<NamedTensor>& out) const;

  std::vector<NamedTensor> params_;
  std::vector<NamedModule> children_;
  bool training_ = true;
};

}  // namespace lowbit
