// Module: registration of parameters, buffers and children, the recursive walks, state-dict
// save/load (checked first, then copied in place), device moves that keep handles, the training
// flag.
#include "layers/module.h"

#include <unordered_map>
#include <unordered_set>

#include "core/autograd.h"
#include "core/error.h"

namespace lowbit {

Module::~Module() = default;

void Module::check_new_name(const std::string& name) const {
  LOWBIT_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module: name '", name,
               "' must be non-empty and contain no '.'");
  for (const auto& [n, t] : params_)
    LOWBIT_CHECK(n != name, "Module: a parameter named '", name, "' is already registered");
  for (const auto& [n, t] : buffers_)
    LOWBIT_CHECK(n != name, "Module: a buffer named '", name, "' is already registered");
  for (const auto& [n, m] : children_)
    LOWBIT_CHECK(n != name, "Module: a child module named '", name, "' is already registered");
}

Parameter Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  LOWBIT_CHECK(t.defined(), "Module: parameter '", name, "' is an undefined tensor");
  LOWBIT_CHECK(t.is_leaf(), "Module: parameter '", name, "' must be a leaf tensor (detach it first)");
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  LOWBIT_CHECK(t.defined(), "Module: buffer '", name, "' is an undefined tensor");
  LOWBIT_CHECK(!t.requires_grad(), "Module: buffer '", name,
               "' requires grad (buffers are not trained: register it as a parameter, or detach it)");
  buffers_.emplace_back(name, t);
  return t;
}

std::shared_ptr<Module> Module::register_module(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  LOWBIT_CHECK(m != nullptr, "Module: child module '", name, "' is null");
  children_.emplace_back(name, m);
  return m;
}

// ---- walks ----

void Module::collect_params(const std::string& prefix, std::vector<Entry>& out) const {
  for (const auto& [name, t] : params_) out.push_back({prefix + name, t, this});
  for (const auto& [name, m] : children_) m->collect_params(prefix + name + ".", out);
}

void Module::collect_buffers(const std::string& prefix, std::vector<Entry>& out) const {
  for (const auto& [name, t] : buffers_) out.push_back({prefix + name, t, this});
  for (const auto& [name, m] : children_) m->collect_buffers(prefix + name + ".", out);
}

void Module::collect_state(const std::string& prefix, std::vector<Entry>& out) const {
  for (const auto& [name, t] : params_) out.push_back({prefix + name, t, this});
  for (const auto& [name, t] : buffers_) out.push_back({prefix + name, t, this});
  for (const auto& [name, m] : children_) m->collect_state(prefix + name + ".", out);
}

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (const auto& [name, m] : children_) m->collect_modules(prefix.empty() ? name : prefix + "." + name, out);
}

std::vector<NamedTensor> Module::named_parameters() const {
  return named_parameters_where([](const std::string&, const Tensor&, const Module&) { return true; });
}

std::vector<NamedTensor> Module::named_parameters_where(const ParamPredicate& pred) const {
  std::vector<Entry> all;
  collect_params("", all);
  std::vector<NamedTensor> out;
  for (const Entry& e : all)
    if (pred(e.name, e.tensor, *e.owner)) out.emplace_back(e.name, e.tensor);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<Entry> all;
  collect_buffers("", all);
  std::vector<NamedTensor> out;
  for (const Entry& e : all) out.emplace_back(e.name, e.tensor);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules("", out);
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

// ---- state dict ----

StateDict Module::state_dict() const {
  std::vector<Entry> all;
  collect_state("", all);
  StateDict out;
  for (const Entry& e : all) out.emplace_back(e.name, e.tensor.detach());
  return out;
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  std::vector<Entry> mine;
  collect_state("", mine);
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    LOWBIT_CHECK(given.emplace(name, &t).second, "load_state_dict: key '", name, "' appears twice in the state dict");
    LOWBIT_CHECK(t.defined(), "load_state_dict: key '", name, "' holds an undefined tensor");
  }

  LoadResult result;
  std::unordered_set<std::string> known;
  for (const Entry& e : mine) {
    known.insert(e.name);
    auto it = given.find(e.name);
    if (it == given.end()) {
      result.missing.push_back(e.name);
      continue;
    }
    const Tensor& src = *it->second;
    LOWBIT_CHECK(src.shape() == e.tensor.shape(), "load_state_dict: shape mismatch for '", e.name,
                 "': the state dict has ", shape_str(src.shape()), ", the module has ", shape_str(e.tensor.shape()));
    LOWBIT_CHECK(src.dtype() == e.tensor.dtype(), "load_state_dict: dtype mismatch for '", e.name,
                 "': the state dict has ", dtype_name(src.dtype()), " ", shape_str(src.shape()), ", the module has ",
                 dtype_name(e.tensor.dtype()), " ", shape_str(e.tensor.shape()));
  }
  for (const auto& [name, t] : state)
    if (!known.count(name)) result.unexpected.push_back(name);

  if (strict && (!result.missing.empty() || !result.unexpected.empty())) {
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
      return s.empty() ? std::string("none") : s;
    };
    LOWBIT_FAIL("load_state_dict: keys do not match (missing: ", join(result.missing),
                "; unexpected: ", join(result.unexpected), ")");
  }

  NoGradGuard no_grad;
  for (const Entry& e : mine) {
    auto it = given.find(e.name);
    if (it == given.end()) continue;
    Tensor dst = e.tensor;
    dst.copy_(*it->second);
  }
  return result;
}

// ---- device, gradients, mode ----

namespace {
// Moves t's data to `device` under the same TensorImpl, so every handle to t sees the move.
void move_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;
  Tensor moved = t.detach().to(device).contiguous();
  TensorImpl* impl = t.unsafe_impl();
  impl->storage = moved.storage();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
}
}  // namespace

void Module::to(Device device) {
  std::vector<Entry> all;
  collect_state("", all);
  for (const Entry& e : all) {
    if (e.tensor.requires_grad()) e.tensor.zero_grad();
    move_in_place(e.tensor, device);
  }
}

void Module::zero_grad() {
  for (const Tensor& t : parameters()) t.zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

}  // namespace lowbit
