// SGD with momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD (dampening 0):
//   g = grad + weight_decay * p
//   buf = g                        on the first step, else  buf = momentum * buf + g
//   g = g + momentum * buf          with Nesterov, else     g = buf      (when momentum > 0)
//   p = p - lr * g
// One fused kernel per parameter tensor (kernels/cpu/optim.h); parameter groups, schedules,
// hooks and state saving come from Optimizer (core/optim/optimizer.h).
#pragma once

#include <string>
#include <vector>

#include "core/export.h"
#include "core/optim/optimizer.h"
#include "core/tensor.h"

namespace lowbit {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.f;
  bool nesterov = false;
  float weight_decay = 0.f;
};

class LOWBIT_API SGD : public Optimizer {
 public:
  SGD() = default;  // no groups yet: add them with add_param_group
  // One group named "default" holding `params`.
  SGD(std::vector<Tensor> params, SgdOptions options);

  // Throws on a negative or non-finite lr, momentum or weight decay, on Nesterov without
  // momentum, and on parameters that are undefined, not f32, not contiguous leaves requiring
  // grad, or already in a group. An empty name gives "group<N>".
  void add_param_group(std::vector<Tensor> params, SgdOptions options, std::string name = "");

  const char* type() const override { return "SGD"; }
  SgdOptions options(size_t group = 0) const;  // with the group's current lr

 protected:
  void update_group(size_t g) override;
  std::vector<std::string> buffer_names(size_t g) const override;
  std::vector<std::pair<std::string, double>> group_settings(size_t g) const override;

 private:
  std::vector<SgdOptions> options_;  // per group; lr and weight_decay live in the group
};

}  // namespace lowbit
