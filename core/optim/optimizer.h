// Optimizer: the base of SGD, Adam and AdamW. An optimizer holds parameter groups, each with a
// name, its parameters and its own settings (every optimizer has lr and weight_decay; the rest
// belongs to the subclass). Each group keeps a base lr (the one it was created with) and a current
// lr; schedules set lr = base_lr * factor (scale_lr). Per-parameter state (a step count and the
// optimizer's buffers: momentum, exp_avg, ...) is created on a parameter's first update, and
// state_dict()/load_state_dict() save and restore it together with the groups' settings.
// step() updates every parameter that has a gradient (others are skipped: their state does not
// advance), then runs the post-step hooks in the order they were added, all under NoGradGuard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

// What state_dict() gives and load_state_dict() takes; the tensors go to a safetensors file and
// `meta` into a checkpoint's JSON metadata.
struct OptimizerState {
  // "state.<i>.<buffer>": parameter i's buffer, i counting parameters over all groups in order.
  std::map<std::string, Tensor> tensors;
  // JSON text: {"type", "groups": [{"name", "shapes", "lr", "base_lr", "weight_decay", <the
  // subclass's settings>}], "steps": [step count of each parameter]}.
  std::string meta;
};

class LOWBIT_API Optimizer {
 public:
  using Hook = std::function<void()>;

  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual const char* type() const = 0;  // "SGD", "Adam", "AdamW"

  void step();
  void zero_grad();  // drops every parameter's gradient

  // ---- groups ----
  size_t num_groups() const { return groups_.size(); }
  const std::string& group_name(size_t group) const;
  size_t group_index(const std::string& name) const;  // throws on an unknown name
  const std::vector<Tensor>& group_params(size_t group) const;
  std::vector<Tensor> params() const;  // every group's parameters, in order

  // ---- learning rates ----
  float lr(size_t group) const;
  float base_lr(size_t group) const;
  void set_lr(size_t group, float lr);       // the current lr only
  void set_lr(float lr);                     // every group's current lr
  void set_base_lr(size_t group, float lr);  // the base lr, and the current lr with it
  void scale_lr(double factor);              // every group: lr = base_lr * factor
  float weight_decay(size_t group) const;

  // Functions run after every step(), e.g. clipping weights (see core/optim/clip.h).
  void add_post_step_hook(Hook hook);

  // ---- saving and loading ----
  // The tensors are copies, so later steps do not change a saved state.
  OptimizerState state_dict() const;
  // Restores per-parameter state and each group's current lr. Refuses, naming what differs: a
  // state of another optimizer type, different group count, names, parameter counts or shapes,
  // different settings (base lr, weight decay, momentum, betas, ...), missing or unexpected
  // tensors, or tensors of the wrong shape. Nothing changes when it throws.
  void load_state_dict(const OptimizerState& state);

 protected:
  struct ParamState {
    int64_t step = 0;             // updates applied so far
    std::vector<Tensor> buffers;  // named by buffer_names(); empty until the first update
  };
  struct Group {
    std::string name;
    std::vector<Tensor> params;
    std::vector<ParamState> state;  // one per parameter
    float lr = 0.f;
    float base_lr = 0.f;
    float weight_decay = 0.f;
  };

  Optimizer() = default;

  // Appends a group after checking the parameters (defined, f32, contiguous leaves that require
  // grad, in no other group) and the name (unique; empty gives "group<N>"). The subclass checks
  // its settings first and keeps its own ones in a vector parallel to the groups.
  void add_group(std::string name, std::vector<Tensor> params, float lr, float weight_decay);
  // Checks lr or another non-negative setting: finite and >= 0, or throws naming it.
  void check_non_negative(float value, const char* setting) const;
  void check_group(size_t group) const;  // throws on an index out of range
  // Parameter i of group g's gradient as a contiguous f32 tensor of the parameter's shape and
  // device (checked), or an undefined tensor when it has none.
  Tensor grad_of(size_t g, size_t i) const;

  // Updates every parameter of group `g` that has a gradient (runs under NoGradGuard).
  virtual void update_group(size_t g) = 0;
  // Names of the buffers kept per parameter of group `g` (e.g. {"momentum_buffer"}).
  virtual std::vector<std::string> buffer_names(size_t g) const = 0;
  // The subclass's own settings of group `g` (bools as 0/1), saved and compared on load.
  virtual std::vector<std::pair<std::string, double>> group_settings(size_t g) const = 0;

  std::vector<Group> groups_;

 private:
  std::vector<Hook> hooks_;
};

}  // namespace lowbit
