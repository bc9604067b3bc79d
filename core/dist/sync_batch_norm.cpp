// sync_batch_norm: local statistics and the normalization through the batch_norm kernels
// (kernels/cpu/norm.h, kernels/cuda/norm.h), the combination of the ranks' statistics and of the
// backward sums with tensor arithmetic around two (forward) and one (backward) all-reduces.
#include "core/dist/sync_batch_norm.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/norm_args.h"
#include "core/ops/shape.h"
#include "kernels/cpu/norm.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/norm.h"
#endif

namespace lowbit::dist {

namespace {

using Grads = std::vector<Tensor>;

using detail::contiguous_or_undefined;
using detail::ptr_or_null;

void local_stats(const Tensor& x, int64_t rows, int64_t c, Tensor& mean, Tensor& var) {
  if (x.device().is_cpu())
    return cpu::batch_norm_stats(x.data<float>(), rows, c, mean.data<float>(), var.data<float>());
#if LOWBIT_WITH_CUDA
  cuda::batch_norm_stats(x.data<float>(), rows, c, mean.data<float>(), var.data<float>());
#else
  cuda_missing("sync_batch_norm");
#endif
}

void normalize(const Tensor& x, int64_t rows, int64_t c, const Tensor& mean, const Tensor& var, float eps,
               const Tensor& gamma, const Tensor& beta, Tensor& y) {
  if (x.device().is_cpu())
    return cpu::batch_norm_forward(x.data<float>(), rows, c, mean.data<float>(), var.data<float>(), eps,
                                   ptr_or_null(gamma), ptr_or_null(beta), y.data<float>());
#if LOWBIT_WITH_CUDA
  cuda::batch_norm_forward(x.data<float>(), rows, c, mean.data<float>(), var.data<float>(), eps, ptr_or_null(gamma),
                           ptr_or_null(beta), y.data<float>());
#else
  cuda_missing("sync_batch_norm");
#endif
}

// sums[0:C] = Σgy, sums[C:2C] = Σgy·xhat over this rank's rows.
void local_grad_sums(const Tensor& x, const Tensor& g, int64_t rows, int64_t c, const Tensor& mean, const Tensor& var,
                     float eps, const Tensor& gamma, Tensor& sums) {
  float* s = sums.data<float>();
  if (x.device().is_cpu())
    return cpu::batch_norm_backward(x.data<float>(), g.data<float>(), rows, c, mean.data<float>(), var.data<float>(),
                                    eps, ptr_or_null(gamma), true, nullptr, s + c, s);
#if LOWBIT_WITH_CUDA
  cuda::batch_norm_backward(x.data<float>(), g.data<float>(), rows, c, mean.data<float>(), var.data<float>(), eps,
                            ptr_or_null(gamma), true, nullptr, s + c, s);
#else
  cuda_missing("sync_batch_norm backward");
#endif
}

void grad_x(const Tensor& x, const Tensor& g, int64_t rows, int64_t c, const Tensor& mean, const Tensor& var,
            float eps, const Tensor& gamma, const Tensor& means, Tensor& gx) {
  const float* m = means.data<float>();
  if (x.device().is_cpu())
    return cpu::batch_norm_backward_x(x.data<float>(), g.data<float>(), rows, c, mean.data<float>(),
                                      var.data<float>(), eps, ptr_or_null(gamma), m, m + c, gx.data<float>());
#if LOWBIT_WITH_CUDA
  cuda::batch_norm_backward_x(x.data<float>(), g.data<float>(), rows, c, mean.data<float>(), var.data<float>(), eps,
                              ptr_or_null(gamma), m, m + c, gx.data<float>());
#else
  cuda_missing("sync_batch_norm backward");
#endif
}

}  // namespace

Tensor sync_batch_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, const Tensor& running_mean,
                       const Tensor& running_var, float momentum, float eps, std::shared_ptr<Communicator> comm) {
  LOWBIT_CHECK(comm != nullptr, "sync_batch_norm: no communicator");
  const detail::BatchNormShape shape =
      detail::check_batch_norm_args("sync_batch_norm", x_in, gamma_in, beta_in, running_mean, running_var);
  const int64_t channels = shape.channels, rows = shape.rows;
  LOWBIT_CHECK(channels > 0 && rows >= (comm->size() > 1 ? 1 : 2), "sync_batch_norm: needs at least ",
               comm->size() > 1 ? "one value" : "two values", " per channel on each rank, got x of shape ",
               shape_str(x_in.shape()));
  LOWBIT_CHECK(momentum >= 0.f && momentum <= 1.f && eps >= 0.f, "sync_batch_norm: momentum (", momentum,
               ") must be in [0, 1] and eps (", eps, ") non-negative");

  const Device dev = x_in.device();
  Tensor x = x_in.detach().contiguous();
  Tensor gamma = contiguous_or_undefined(gamma_in), beta = contiguous_or_undefined(beta_in);
  Tensor mean, var, total;  // global statistics and N = [Σ n_r]
  {
    NoGradGuard no_grad;
    Tensor m = Tensor::empty({channels}, DType::f32, dev), v = Tensor::empty({channels}, DType::f32, dev);
    local_stats(x, rows, channels, m, v);
    const auto n = static_cast<float>(rows);
    Tensor first = cat({mul(m, n), Tensor::full({1}, n, DType::f32, dev)}, 0).contiguous();
    comm->all_reduce_sum(first);
    total = first.slice(0, channels, channels + 1).contiguous();
    mean = div(first.slice(0, 0, channels), total).contiguous();
    Tensor d = sub(m, mean);
    Tensor second = mul(add(v, mul(d, d)), n).contiguous();
    comm->all_reduce_sum(second);
    var = div(second, total).contiguous();
  }

  Tensor y = Tensor::empty(x.shape(), DType::f32, dev);
  normalize(x, rows, channels, mean, var, eps, gamma, beta, y);

  if (running_mean.defined()) {
    NoGradGuard no_grad;
    Tensor unbias = div(total, add(total, -1.f));  // N / (N − 1)
    Tensor rm = running_mean.detach(), rv = running_var.detach();
    rm.mul_(1.f - momentum).add_(mean, momentum);
    rv.mul_(1.f - momentum).add_(mul(var, unbias), momentum);
  }

  if (needs_grad({&x_in, &gamma_in, &beta_in})) {
    const bool want_x = x_in.requires_grad();
    const bool want_gamma = gamma_in.defined() && gamma_in.requires_grad();
    const bool want_beta = beta_in.defined() && beta_in.requires_grad();
    record(y, "sync_batch_norm", {x_in, gamma_in, beta_in},
           [x, mean, var, total, gamma, eps, rows, channels, comm, want_x, want_gamma, want_beta](const Tensor& g_in) {
             Tensor g = g_in.contiguous();
             Tensor sums = Tensor::empty({2 * channels}, DType::f32, x.device());
             local_grad_sums(x, g, rows, channels, mean, var, eps, gamma, sums);
             Tensor gbeta = want_beta ? sums.slice(0, 0, channels).clone() : Tensor();
             Tensor ggamma = want_gamma ? sums.slice(0, channels, 2 * channels).clone() : Tensor();
             Tensor gx;
             if (want_x) {  // the same on every rank: the same graph runs everywhere
               comm->all_reduce_sum(sums);
               Tensor means = div(sums, total).contiguous();
               gx = Tensor::empty(x.shape(), DType::f32, x.device());
               grad_x(x, g, rows, channels, mean, var, eps, gamma, means, gx);
             }
             return Grads{gx, ggamma, gbeta};
           });
  }
  return y;
}

}  // namespace lowbit::dist
