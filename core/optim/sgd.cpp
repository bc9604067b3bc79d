// SGD update (see sgd.h for the formulas): settings checks and the per-tensor dispatch of the
// fused update kernel.
#include "core/optim/sgd.h"

#include "core/dispatch.h"
#include "core/error.h"
#include "kernels/cpu/optim.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace lowbit {

SGD::SGD(std::vector<Tensor> params, SgdOptions options) { add_param_group(std::move(params), options, "default"); }

void SGD::add_param_group(std::vector<Tensor> params, SgdOptions o, std::string name) {
  check_non_negative(o.lr, "lr");
  check_non_negative(o.momentum, "momentum");
  check_non_negative(o.weight_decay, "weight_decay");
  LOWBIT_CHECK(!o.nesterov || o.momentum > 0.f, "SGD: nesterov needs momentum > 0, got momentum ", o.momentum);
  add_group(std::move(name), std::move(params), o.lr, o.weight_decay);
  options_.push_back(o);
}

SgdOptions SGD::options(size_t group) const {
  check_group(group);
  SgdOptions o = options_[group];
  o.lr = groups_[group].lr;
  o.weight_decay = groups_[group].weight_decay;
  return o;
}

std::vector<std::string> SGD::buffer_names(size_t g) const {
  if (options_[g].momentum == 0.f) return {};
  return {"momentum_buffer"};
}

std::vector<std::pair<std::string, double>> SGD::group_settings(size_t g) const {
  return {{"momentum", options_[g].momentum}, {"nesterov", options_[g].nesterov ? 1.0 : 0.0}};
}

void SGD::update_group(size_t g) {
  Group& group = groups_[g];
  const SgdOptions& o = options_[g];
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    const Tensor grad = grad_of(g, i);
    if (!grad.defined()) continue;
    ParamState& s = group.state[i];
    const bool first = s.step == 0;
    if (first && o.momentum != 0.f) s.buffers = {Tensor::empty(p.shape(), DType::f32, p.device())};
    const SgdStepArgs args{.lr = group.lr,
                           .momentum = o.momentum,
                           .weight_decay = group.weight_decay,
                           .nesterov = o.nesterov,
                           .first = first};
    switch (p.device().type) {
      case DeviceType::CPU:
        cpu::sgd_step(p.data<float>(), grad.data<float>(), o.momentum != 0.f ? s.buffers[0].data<float>() : nullptr,
                      p.numel(), args);
        break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::sgd_step(p.data<float>(), grad.data<float>(), o.momentum != 0.f ? s.buffers[0].data<float>() : nullptr,
                       p.numel(), args);
        break;
#else
        cuda_missing("SGD step");
#endif
    }
    ++s.step;
  }
}

}  // namespace lowbit
