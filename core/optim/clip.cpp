// Gradient-norm and weight clipping (see clip.h).
#include "core/optim/clip.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "kernels/cpu/optim.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/optim.h"
#endif

namespace lowbit {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  LOWBIT_CHECK(std::isfinite(max_norm) && max_norm > 0.0, "clip_grad_norm: max_norm must be a finite number > 0, got ",
               max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads(params.size());
  double sum = 0.0;
  std::vector<const float*> cuda_data;  // CUDA gradients: summed in one pass, read back once
  std::vector<int64_t> cuda_numel;
  for (size_t i = 0; i < params.size(); ++i) {
    LOWBIT_CHECK(params[i].defined(), "clip_grad_norm: parameter ", i, " is an undefined tensor");
    const Tensor g = params[i].grad();
    if (!g.defined()) continue;
    LOWBIT_CHECK(g.dtype() == DType::f32, "clip_grad_norm: parameter ", i, " (shape ", shape_str(params[i].shape()),
                 ") has a ", dtype_name(g.dtype()), " gradient, expected f32");
    grads[i] = g.contiguous();
    switch (g.device().type) {
      case DeviceType::CPU:
        sum += cpu::sum_squares(grads[i].data<float>(), g.numel());
        break;
      case DeviceType::CUDA:
        cuda_data.push_back(grads[i].data<float>());
        cuda_numel.push_back(g.numel());
        break;
    }
  }
  if (!cuda_data.empty()) {
#if LOWBIT_WITH_CUDA
    sum += cuda::sum_squares(cuda_data.data(), cuda_numel.data(), static_cast<int64_t>(cuda_data.size()));
#else
    cuda_missing("clip_grad_norm");
#endif
  }
  const double norm = std::sqrt(sum);
  if (!std::isfinite(norm)) return norm;
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    for (size_t i = 0; i < params.size(); ++i)
      if (grads[i].defined()) params[i].set_grad(mul(grads[i], static_cast<float>(coef)));
  }
  return norm;
}

void clip_weights(const std::vector<Tensor>& params, float lo, float hi) {
  LOWBIT_CHECK(lo <= hi, "clip_weights: lo must be <= hi, got [", lo, ", ", hi, "]");
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    LOWBIT_CHECK(p.defined(), "clip_weights: parameter ", i, " is an undefined tensor");
    LOWBIT_CHECK(p.dtype() == DType::f32 && p.is_contiguous(), "clip_weights: parameter ", i, " (shape ",
                 shape_str(p.shape()), ", ", dtype_name(p.dtype()), ") must be a contiguous f32 tensor");
    switch (p.device().type) {
      case DeviceType::CPU:
        cpu::clamp_inplace(p.data<float>(), p.numel(), lo, hi);
        break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::clamp_inplace(p.data<float>(), p.numel(), lo, hi);
        break;
#else
        cuda_missing("clip_weights");
#endif
    }
  }
}

Optimizer::Hook weight_clip_hook(std::vector<Tensor> params, float lo, float hi) {
  LOWBIT_CHECK(lo <= hi, "weight_clip_hook: lo must be <= hi, got [", lo, ", ", hi, "]");
  return [params = std::move(params), lo, hi] { clip_weights(params, lo, hi); };
}

}  // namespace lowbit
