// Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW (amsgrad off). At step t of a
// parameter (t counts its own updates):
//   Adam:  g = grad + weight_decay * p                 (L2 decay through the gradient)
//   AdamW: g = grad;  p = p * (1 - lr * weight_decay)    (decoupled decay)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2      (m, v start at 0)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Unlike torch.optim.AdamW, whose default weight decay is 0.01, both default to 0 here.
// One fused kernel per parameter tensor (kernels/cpu/optim.h).
#pragma once

#include <string>
#include <vector>

#include "core/export.h"
#include "core/optim/optimizer.h"
#include "core/tensor.h"

namespace lowbit {

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.f;
};

class LOWBIT_API Adam : public Optimizer {
 public:
  Adam() = default;  // no groups yet: add them with add_param_group
  // One group named "default" holding `params`.
  Adam(std::vector<Tensor> params, AdamOptions options);

  // Throws on a negative or non-finite lr, eps or weight decay, betas outside [0, 1), and on
  // parameters that are undefined, not f32, not contiguous leaves requiring grad, or already in
  // a group. An empty name gives "group<N>".
  void add_param_group(std::vector<Tensor> params, AdamOptions options, std::string name = "");

  const char* type() const override { return decoupled_ ? "AdamW" : "Adam"; }
  AdamOptions options(size_t group = 0) const;  // with the group's current lr

 protected:
  explicit Adam(bool decoupled) : decoupled_(decoupled) {}
  void update_group(size_t g) override;
  std::vector<std::string> buffer_names(size_t g) const override;
  std::vector<std::pair<std::string, double>> group_settings(size_t g) const override;

 private:
  bool decoupled_ = false;
  std::vector<AdamOptions> options_;  // per group; lr and weight_decay live in the group
};

class LOWBIT_API AdamW : public Adam {
 public:
  AdamW() : Adam(true) {}
  AdamW(std::vector<Tensor> params, AdamOptions options) : Adam(true) {
    add_param_group(std::move(params), options, "default");
  }
};

}  // namespace lowbit
