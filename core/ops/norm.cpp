// batch_norm: forward, running-statistics update and backward (closed form, kernels/cpu/norm.h).
// The backward node saves x, the statistics used to normalize (a snapshot of the running ones in
// evaluation, since they change in place later) and gamma.
#include "core/ops/norm.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/norm_args.h"
#include "kernels/cpu/norm.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/norm.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

using detail::contiguous_or_undefined;
using detail::ptr_or_null;

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, const Tensor& running_mean,
                  const Tensor& running_var, bool training, float momentum, float eps) {
  const detail::BatchNormShape shape =
      detail::check_batch_norm_args("batch_norm", x_in, gamma_in, beta_in, running_mean, running_var);
  const int64_t channels = shape.channels, rows = shape.rows;
  LOWBIT_CHECK(eps >= 0.f, "batch_norm: eps must be non-negative, got ", eps);
  if (training) {
    LOWBIT_CHECK(rows >= 2, "batch_norm: training needs more than one value per channel, got x of shape ",
                 shape_str(x_in.shape()));
    LOWBIT_CHECK(momentum >= 0.f && momentum <= 1.f, "batch_norm: momentum must be in [0, 1], got ", momentum);
  } else {
    LOWBIT_CHECK(running_mean.defined(),
                 "batch_norm: evaluation mode needs running_mean and running_var (none were given)");
  }

  Tensor x = x_in.detach().contiguous();
  Tensor gamma = contiguous_or_undefined(gamma_in), beta = contiguous_or_undefined(beta_in);
  Tensor mean, var;  // the statistics that normalize: batch (biased var) or a running snapshot
  if (training) {
    mean = Tensor::empty({channels}, DType::f32, x.device());
    var = Tensor::empty({channels}, DType::f32, x.device());
    switch (x.device().type) {
      case DeviceType::CPU: cpu::batch_norm_stats(x.data<float>(), rows, channels, mean.data<float>(), var.data<float>()); break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::batch_norm_stats(x.data<float>(), rows, channels, mean.data<float>(), var.data<float>());
#else
        cuda_missing("batch_norm");
#endif
        break;
    }
  } else {
    mean = running_mean.detach().clone();
    var = running_var.detach().clone();
  }

  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::batch_norm_forward(x.data<float>(), rows, channels, mean.data<float>(), var.data<float>(), eps,
                              ptr_or_null(gamma), ptr_or_null(beta), y.data<float>());
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::batch_norm_forward(x.data<float>(), rows, channels, mean.data<float>(), var.data<float>(), eps,
                               ptr_or_null(gamma), ptr_or_null(beta), y.data<float>());
#else
      cuda_missing("batch_norm");
#endif
      break;
  }

  if (training && running_mean.defined()) {
    NoGradGuard no_grad;
    float unbias = static_cast<float>(rows) / static_cast<float>(rows - 1);
    Tensor rm = running_mean.detach(), rv = running_var.detach();
    rm.mul_(1.f - momentum).add_(mean, momentum);
    rv.mul_(1.f - momentum).add_(mul(var, unbias), momentum);
  }

  if (needs_grad({&x_in, &gamma_in, &beta_in})) {
    bool want_x = x_in.requires_grad();
    bool want_gamma = gamma_in.defined() && gamma_in.requires_grad();
    bool want_beta = beta_in.defined() && beta_in.requires_grad();
    record(y, "batch_norm", {x_in, gamma_in, beta_in},
           [x, mean, var, gamma, eps, training, rows, channels, want_x, want_gamma, want_beta](const Tensor& g_in) {
             Tensor g = g_in.contiguous();
             Tensor gx = want_x ? Tensor::empty(x.shape(), DType::f32, x.device()) : Tensor();
             Tensor ggamma = want_gamma ? Tensor::empty({channels}, DType::f32, x.device()) : Tensor();
             Tensor gbeta = want_beta ? Tensor::empty({channels}, DType::f32, x.device()) : Tensor();
             switch (x.device().type) {
               case DeviceType::CPU:
                 cpu::batch_norm_backward(x.data<float>(), g.data<float>(), rows, channels, mean.data<float>(),
                                          var.data<float>(), eps, ptr_or_null(gamma), training, ptr_or_null(gx),
                                          ptr_or_null(ggamma), ptr_or_null(gbeta));
                 break;
               case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
                 cuda::batch_norm_backward(x.data<float>(), g.data<float>(), rows, channels, mean.data<float>(),
                                           var.data<float>(), eps, ptr_or_null(gamma), training, ptr_or_null(gx),
                                           ptr_or_null(ggamma), ptr_or_null(gbeta));
#else
                 cuda_missing("batch_norm backward");
#endif
                 break;
             }
             return Grads{gx, ggamma, gbeta};
           });
  }
  return y;
}

}  // namespace lowbit
