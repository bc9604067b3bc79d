// Adam / AdamW update (see adam.h for the formulas): settings checks, bias corrections per
// parameter (in double, as torch computes them in Python floats) and the dispatch of the fused
// update kernel.
#include "core/optim/adam.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/error.h"
#include "kernels/cpu/optim.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace lowbit {

Adam::Adam(std::vector<Tensor> params, AdamOptions options) { add_param_group(std::move(params), options, "default"); }

void Adam::add_param_group(std::vector<Tensor> params, AdamOptions o, std::string name) {
  check_non_negative(o.lr, "lr");
  check_non_negative(o.eps, "eps");
  check_non_negative(o.weight_decay, "weight_decay");
  LOWBIT_CHECK(o.beta1 >= 0.f && o.beta1 < 1.f, type(), ": beta1 must be in [0, 1), got ", o.beta1);
  LOWBIT_CHECK(o.beta2 >= 0.f && o.beta2 < 1.f, type(), ": beta2 must be in [0, 1), got ", o.beta2);
  add_group(std::move(name), std::move(params), o.lr, o.weight_decay);
  options_.push_back(o);
}

AdamOptions Adam::options(size_t group) const {
  check_group(group);
  AdamOptions o = options_[group];
  o.lr = groups_[group].lr;
  o.weight_decay = groups_[group].weight_decay;
  return o;
}

std::vector<std::string> Adam::buffer_names(size_t) const { return {"exp_avg", "exp_avg_sq"}; }

std::vector<std::pair<std::string, double>> Adam::group_settings(size_t g) const {
  const AdamOptions& o = options_[g];
  return {{"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}};
}

void Adam::update_group(size_t g) {
  Group& group = groups_[g];
  const AdamOptions& o = options_[g];
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    const Tensor grad = grad_of(g, i);
    if (!grad.defined()) continue;
    ParamState& s = group.state[i];
    if (s.step == 0)
      s.buffers = {Tensor::zeros(p.shape(), DType::f32, p.device()), Tensor::zeros(p.shape(), DType::f32, p.device())};
    const double t = static_cast<double>(s.step + 1);
    const double bias_correction1 = 1.0 - std::pow(static_cast<double>(o.beta1), t);
    const double bias_correction2 = 1.0 - std::pow(static_cast<double>(o.beta2), t);
    const AdamStepArgs args{.lr = group.lr,
                            .beta1 = o.beta1,
                            .beta2 = o.beta2,
                            .eps = o.eps,
                            .weight_decay = group.weight_decay,
                            .decoupled = decoupled_,
                            .step_size = static_cast<float>(static_cast<double>(group.lr) / bias_correction1),
                            .bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2))};
    switch (p.device().type) {
      case DeviceType::CPU:
        cpu::adam_step(p.data<float>(), grad.data<float>(), s.buffers[0].data<float>(), s.buffers[1].data<float>(),
                       p.numel(), args);
        break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::adam_step(p.data<float>(), grad.data<float>(), s.buffers[0].data<float>(), s.buffers[1].data<float>(),
                        p.numel(), args);
        break;
#else
        cuda_missing(decoupled_ ? "AdamW step" : "Adam step");
#endif
    }
    ++s.step;
  }
}

}  // namespace lowbit
