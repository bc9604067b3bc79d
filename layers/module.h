// Module: the base of every layer and model. A module owns named parameters (leaf tensors that
// require grad, trained), named buffers (state that is saved but not trained, e.g. batch-norm
// running statistics) and named child modules, all kept in registration order. The walks give
// dotted names as PyTorch does ("0.weight", "layer1.0.bn1.running_mean").
//
// state_dict() lists parameters and buffers (parameters first within each module, then its
// buffers, then its children, depth-first); load_state_dict() copies values IN PLACE, so tensor
// handles held elsewhere (optimizers, layers) stay valid. to(device) also keeps every handle: it
// moves each tensor's storage under the same TensorImpl. It drops accumulated gradients, and an
// optimizer's own state (momentum buffers) stays where it was: create optimizers after to().
// train(bool) sets the training flag on the whole tree (dropout and batch norm read it).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

// A parameter is a leaf Tensor that requires grad and is registered on a module
// (Module::register_parameter marks it). The alias only documents intent.
using Parameter = Tensor;

using NamedTensor = std::pair<std::string, Tensor>;
// Ordered name -> tensor list (registration order, as PyTorch's OrderedDict). The tensors of
// Module::state_dict() share storage with the module: clone() them for a snapshot.
using StateDict = std::vector<NamedTensor>;

// What a non-strict load_state_dict left out.
struct LoadResult {
  std::vector<std::string> missing;     // in the module, absent from the state dict
  std::vector<std::string> unexpected;  // in the state dict, not in the module
};

class LOWBIT_API Module {
 public:
  using NamedTensor = ::lowbit::NamedTensor;
  using NamedModule = std::pair<std::string, std::shared_ptr<Module>>;
  // Decides membership of a parameter: its dotted name, the tensor and the module that owns it
  // (e.g. dynamic_cast<const BatchNorm*>(&owner) to exclude normalization from weight decay).
  using ParamPredicate = std::function<bool(const std::string& name, const Tensor& t, const Module& owner)>;

  Module() = default;
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Every parameter of this module and its descendants, depth-first in registration order.
  std::vector<Tensor> parameters() const;
  std::vector<NamedTensor> named_parameters() const;  // dotted names
  // The parameters for which pred is true, in the same order (parameter groups: weight-decay
  // exclusions, quantizer parameters with their own optimizer settings).
  std::vector<NamedTensor> named_parameters_where(const ParamPredicate& pred) const;
  std::vector<NamedTensor> named_buffers() const;  // dotted names, same walk
  // This module ("") and every descendant, depth-first, with dotted names.
  std::vector<std::pair<std::string, Module*>> named_modules();
  const std::vector<NamedModule>& children() const { return children_; }
  int64_t num_parameters() const;  // total element count of the parameters (buffers excluded)

  // Parameters and buffers by dotted name (views sharing storage, without autograd history).
  StateDict state_dict() const;
  // Copies every entry into the matching parameter or buffer, in place. strict: a key missing on
  // either side is an error. Always refused: a shape or dtype mismatch (naming the key and both
  // shapes) and duplicate keys. Nothing is copied unless every check passes.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);

  // Moves parameters and buffers to `device`, keeping their Tensor handles (see the top).
  void to(Device device);
  void zero_grad();  // drops every parameter's accumulated gradient

  // Training flag for this module and every descendant.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

 protected:
  // Registers `t` under `name` (non-empty, no '.', unique in this module), marks it as requiring
  // grad and returns the same handle.
  Parameter register_parameter(const std::string& name, Tensor t);
  // Registers a buffer (saved in the state dict and moved by to(), never trained): a defined
  // tensor that does not require grad. Returns the same handle.
  Tensor register_buffer(const std::string& name, Tensor t);
  std::shared_ptr<Module> register_module(const std::string& name, std::shared_ptr<Module> m);

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    const Module* owner;
  };
  void check_new_name(const std::string& name) const;
  void collect_params(const std::string& prefix, std::vector<Entry>& out) const;
  void collect_buffers(const std::string& prefix, std::vector<Entry>& out) const;
  void collect_state(const std::string& prefix, std::vector<Entry>& out) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);

  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> buffers_;
  std::vector<NamedModule> children_;
  bool training_ = true;
};

}  // namespace lowbit
