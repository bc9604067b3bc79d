// Optimizer base: parameter groups, learning rates, post-step hooks, and the saving and loading
// of per-parameter state (tensors by name + JSON metadata).
#include "core/optim/optimizer.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/autograd.h"
#include "core/error.h"

namespace lowbit {

Optimizer::~Optimizer() = default;

void Optimizer::check_group(size_t group) const {
  LOWBIT_CHECK(group < groups_.size(), type(), ": group index ", group, " out of range (", groups_.size(),
               " group(s))");
}

void Optimizer::check_non_negative(float value, const char* setting) const {
  LOWBIT_CHECK(std::isfinite(value) && value >= 0.f, type(), ": ", setting, " must be a finite number >= 0, got ",
               value);
}

Tensor Optimizer::grad_of(size_t g, size_t i) const {
  const Tensor& p = groups_[g].params[i];
  const Tensor grad = p.grad();
  if (!grad.defined()) return grad;
  LOWBIT_CHECK(grad.dtype() == DType::f32 && grad.shape() == p.shape() && grad.device() == p.device(), type(),
               ": parameter ", i, " of group '", groups_[g].name, "' (f32 ", shape_str(p.shape()), " on ",
               p.device().str(), ") has a ", dtype_name(grad.dtype()), " ", shape_str(grad.shape()), " gradient on ",
               grad.device().str());
  return grad.contiguous();
}

void Optimizer::add_group(std::string name, std::vector<Tensor> params, float lr, float weight_decay) {
  if (name.empty()) name = "group" + std::to_string(groups_.size());
  for (const Group& other : groups_)
    LOWBIT_CHECK(other.name != name, type(), ": a parameter group named '", name, "' already exists");
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    LOWBIT_CHECK(p.defined(), type(), ": parameter ", i, " of group '", name, "' is an undefined tensor");
    const std::string what = detail::cat("parameter ", i, " of group '", name, "' (shape ", shape_str(p.shape()), ")");
    LOWBIT_CHECK(p.dtype() == DType::f32, type(), ": ", what, " has dtype ", dtype_name(p.dtype()), ", expected f32");
    LOWBIT_CHECK(p.requires_grad(), type(), ": ", what, " does not require grad");
    LOWBIT_CHECK(p.is_leaf(), type(), ": ", what, " is not a leaf tensor");
    LOWBIT_CHECK(p.is_contiguous(), type(), ": ", what, " is not contiguous");
    for (size_t j = 0; j < i; ++j)
      LOWBIT_CHECK(params[j].unsafe_impl() != p.unsafe_impl(), type(), ": ", what, " appears twice in the group");
    for (const Group& other : groups_)
      for (const Tensor& q : other.params)
        LOWBIT_CHECK(q.unsafe_impl() != p.unsafe_impl(), type(), ": ", what, " is already in group '", other.name, "'");
  }
  Group g;
  g.name = std::move(name);
  g.state.resize(params.size());
  g.params = std::move(params);
  g.lr = g.base_lr = lr;
  g.weight_decay = weight_decay;
  groups_.push_back(std::move(g));
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) update_group(g);
  for (const Hook& hook : hooks_) hook();
}

void Optimizer::zero_grad() {
  for (const Group& g : groups_)
    for (const Tensor& p : g.params) p.zero_grad();
}

const std::string& Optimizer::group_name(size_t group) const {
  check_group(group);
  return groups_[group].name;
}

size_t Optimizer::group_index(const std::string& name) const {
  std::string known;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].name == name) return g;
    known += (g ? ", '" : "'") + groups_[g].name + "'";
  }
  LOWBIT_FAIL(type(), ": no parameter group named '", name, "' (groups: ", known.empty() ? "none" : known, ")");
}

const std::vector<Tensor>& Optimizer::group_params(size_t group) const {
  check_group(group);
  return groups_[group].params;
}

std::vector<Tensor> Optimizer::params() const {
  std::vector<Tensor> all;
  for (const Group& g : groups_) all.insert(all.end(), g.params.begin(), g.params.end());
  return all;
}

float Optimizer::lr(size_t group) const {
  check_group(group);
  return groups_[group].lr;
}

float Optimizer::base_lr(size_t group) const {
  check_group(group);
  return groups_[group].base_lr;
}

float Optimizer::weight_decay(size_t group) const {
  check_group(group);
  return groups_[group].weight_decay;
}

void Optimizer::set_lr(size_t group, float lr) {
  check_group(group);
  check_non_negative(lr, "lr");
  groups_[group].lr = lr;
}

void Optimizer::set_lr(float lr) {
  check_non_negative(lr, "lr");
  for (Group& g : groups_) g.lr = lr;
}

void Optimizer::set_base_lr(size_t group, float lr) {
  check_group(group);
  check_non_negative(lr, "lr");
  groups_[group].base_lr = groups_[group].lr = lr;
}

void Optimizer::scale_lr(double factor) {
  LOWBIT_CHECK(std::isfinite(factor) && factor >= 0.0, type(), ": lr factor must be a finite number >= 0, got ",
               factor);
  for (Group& g : groups_) g.lr = static_cast<float>(static_cast<double>(g.base_lr) * factor);
}

void Optimizer::add_post_step_hook(Hook hook) {
  LOWBIT_CHECK(static_cast<bool>(hook), type(), ": add_post_step_hook got an empty function");
  hooks_.push_back(std::move(hook));
}

// ---- saving and loading ----

namespace {

std::string state_key(size_t index, const std::string& buffer) {
  return "state." + std::to_string(index) + "." + buffer;
}

}  // namespace

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  nlohmann::json groups = nlohmann::json::array();
  nlohmann::json steps = nlohmann::json::array();
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Group& group = groups_[g];
    nlohmann::json shapes = nlohmann::json::array();
    for (const Tensor& p : group.params) shapes.push_back(p.shape());
    nlohmann::json j = {{"name", group.name},
                        {"shapes", shapes},
                        {"lr", group.lr},
                        {"base_lr", group.base_lr},
                        {"weight_decay", group.weight_decay}};
    for (const auto& [key, value] : group_settings(g)) j[key] = value;
    groups.push_back(std::move(j));
    const std::vector<std::string> names = buffer_names(g);
    for (const ParamState& s : group.state) {
      steps.push_back(s.step);
      for (size_t b = 0; b < s.buffers.size() && b < names.size(); ++b)
        out.tensors[state_key(index, names[b])] = s.buffers[b].detach().clone();
      ++index;
    }
  }
  out.meta = nlohmann::json{{"type", type()}, {"groups", groups}, {"steps", steps}}.dump();
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  const std::string op = detail::cat(type(), " load_state_dict");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(state.meta);
  } catch (const nlohmann::json::exception& e) {
    LOWBIT_FAIL(op, ": the state's metadata is not valid JSON (", e.what(), ")");
  }

  // Everything is checked and the new state built first; the optimizer changes only at the end.
  std::vector<float> lrs;
  std::vector<std::vector<ParamState>> states;
  std::set<std::string> used;
  try {
    const std::string saved_type = meta.at("type").get<std::string>();
    LOWBIT_CHECK(saved_type == type(), op, ": the state is of a ", saved_type, " optimizer, this is ", type());
    const nlohmann::json& groups = meta.at("groups");
    const nlohmann::json& steps = meta.at("steps");
    LOWBIT_CHECK(groups.size() == groups_.size(), op, ": the state has ", groups.size(),
                 " parameter group(s), the optimizer ", groups_.size());
    size_t total = 0;
    for (const Group& g : groups_) total += g.params.size();
    LOWBIT_CHECK(steps.is_array() && steps.size() == total, op, ": the state has step counts for ", steps.size(),
                 " parameters, the optimizer has ", total);

    size_t index = 0;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const Group& group = groups_[g];
      const nlohmann::json& saved = groups[g];
      const std::string name = saved.at("name").get<std::string>();
      LOWBIT_CHECK(name == group.name, op, ": group ", g, " is named '", name, "' in the state, '", group.name,
                   "' in the optimizer");
      const std::string where = "group '" + group.name + "'";
      const nlohmann::json& shapes = saved.at("shapes");
      LOWBIT_CHECK(shapes.size() == group.params.size(), op, ": ", where, " has ", shapes.size(),
                   " parameters in the state, ", group.params.size(), " in the optimizer");
      std::vector<std::pair<std::string, double>> settings = group_settings(g);
      settings.insert(settings.begin(), {{"base_lr", group.base_lr}, {"weight_decay", group.weight_decay}});
      for (const auto& [key, value] : settings) {
        LOWBIT_CHECK(saved.contains(key), op, ": ", where, " has no '", key, "' in the state");
        const double saved_value = saved.at(key).get<double>();
        LOWBIT_CHECK(saved_value == value, op, ": ", where, " has ", key, " ", saved_value, " in the state, ", value,
                     " in the optimizer");
      }
      const float lr = static_cast<float>(saved.at("lr").get<double>());
      LOWBIT_CHECK(std::isfinite(lr) && lr >= 0.f, op, ": ", where, " has lr ", lr, " in the state");
      lrs.push_back(lr);

      const std::vector<std::string> names = buffer_names(g);
      std::vector<ParamState> group_states(group.params.size());
      for (size_t i = 0; i < group.params.size(); ++i, ++index) {
        const Tensor& p = group.params[i];
        const Shape shape = shapes[i].get<Shape>();
        LOWBIT_CHECK(shape == p.shape(), op, ": parameter ", i, " of ", where, " has shape ", shape_str(shape),
                     " in the state, ", shape_str(p.shape()), " in the optimizer");
        const int64_t step = steps[index].get<int64_t>();
        LOWBIT_CHECK(step >= 0, op, ": parameter ", i, " of ", where, " has step count ", step, " in the state");
        group_states[i].step = step;
        if (step == 0) continue;  // no buffers before the first update
        for (const std::string& buffer : names) {
          const std::string key = state_key(index, buffer);
          auto it = state.tensors.find(key);
          LOWBIT_CHECK(it != state.tensors.end(), op, ": tensor '", key, "' (", buffer, " of parameter ", i, " of ",
                       where, ") is missing from the state");
          const Tensor& src = it->second;
          LOWBIT_CHECK(src.defined() && src.dtype() == DType::f32 && src.shape() == p.shape(), op, ": tensor '", key,
                       "' is ", src.defined() ? dtype_name(src.dtype()) : "undefined", " ",
                       src.defined() ? shape_str(src.shape()) : "", ", expected f32 ", shape_str(p.shape()));
          Tensor copy = Tensor::empty(p.shape(), DType::f32, p.device());
          copy.copy_(src);
          group_states[i].buffers.push_back(copy);
          used.insert(key);
        }
      }
      states.push_back(std::move(group_states));
    }
  } catch (const nlohmann::json::exception& e) {
    LOWBIT_FAIL(op, ": malformed state metadata (", e.what(), ")");
  }
  for (const auto& [key, tensor] : state.tensors)
    LOWBIT_CHECK(used.count(key), op, ": unexpected tensor '", key, "' in the state");

  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = lrs[g];
    groups_[g].state = std::move(states[g]);
  }
}

}  // namespace lowbit
