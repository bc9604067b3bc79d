// Module: parameter and child registration, the recursive walks, the training flag.
#include "layers/module.h"

#include "core/error.h"

namespace lowbit {

Module::~Module() = default;

void Module::check_new_name(const std::string& name) const {
  LOWBIT_CHECK(!name.empty() && name.find('.') == std::string::npos,
               "Module: name '", name, "' must be non-empty and contain no '.'");
  for (const auto& [n, t] : params_)
    LOWBIT_CHECK(n != name, "Module: a parameter named '", name, "' is already registered");
  for (const auto& [n, m] : children_)
    LOWBIT_CHECK(n != name, "Module: a child module named '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  LOWBIT_CHECK(t.defined(), "Module: parameter '", name, "' is an undefined tensor");
  LOWBIT_CHECK(t.is_leaf(), "Module: parameter '", name, "' must be a leaf tensor (detach it first)");
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

std::shared_ptr<Module> Module::register_module(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  LOWBIT_CHECK(m != nullptr, "Module: child module '", name, "' is null");
  children_.emplace_back(name, m);
  return m;
}

void Module::collect(const std::string& prefix, std::vector<NamedTensor>& out) const {
  for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, m] : children_) m->collect(prefix + name + ".", out);
}

std::vector<Module::NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

}  // namespace lowbit
