// SGD with momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD (dampening 0):
//   g = grad + weight_decay * p
//   buf = g                        on the first step, else  buf = momentum * buf + g
//   g = g + momentum * buf          with Nesterov, else     g = buf      (when momentum > 0)
//   p = p - lr * g
// Parameters without a gradient are skipped. The update runs under NoGradGuard, in place.
#pragma once

#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.f;
  bool nesterov = false;
  float weight_decay = 0.f;
};

class LOWBIT_API SGD {
 public:
  // Throws on a negative or non-finite lr, momentum or weight decay, on Nesterov without
  // momentum, and on parameters that are undefined, not f32 or do not require grad.
  SGD(std::vector<Tensor> params, SgdOptions options);

  void step();
  void zero_grad();  // drops every parameter's gradient

  const SgdOptions& options() const { return options_; }
  void set_lr(float lr);  // for learning-rate schedules
  const std::vector<Tensor>& params() const { return params_; }

 private:
  std::vector<Tensor> params_;
  std::vector<Tensor> momentum_buffers_;  // one per parameter; undefined until its first step
  SgdOptions options_;
};

}  // namespace lowbit
