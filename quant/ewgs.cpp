// EWGS quantizer op (device dispatch, autograd record) and the EwgsQuantizer module.
#include "quant/ewgs.h"

#include <cmath>
#include <numbers>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "kernels/cpu/quant_ewgs.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_ewgs.h"
#endif

namespace lowbit {

namespace {

constexpr int kMinBits = 1, kMaxBits = 8;

void check_scalar(const Tensor& p, const Tensor& x, const char* arg) {
  LOWBIT_CHECK(p.defined() && p.dtype() == DType::f32 && p.numel() == 1, "ewgs_quantize: ", arg,
               " must be a one-element f32 tensor, got ", p.defined() ? shape_str(p.shape()) : "undefined");
  check_same_device(x, p, "ewgs_quantize");
}

}  // namespace

Tensor ewgs_quantize(const Tensor& x_in, const Tensor& l, const Tensor& u, const Tensor& delta, int bits,
                     QuantTarget target) {
  LOWBIT_CHECK(x_in.dtype() == DType::f32, "ewgs_quantize: x must be f32, got ", dtype_name(x_in.dtype()), " ",
               shape_str(x_in.shape()));
  LOWBIT_CHECK(bits >= kMinBits && bits <= kMaxBits, "ewgs_quantize: bits must be in [1, 8], got ", bits);
  check_scalar(l, x_in, "l");
  check_scalar(u, x_in, "u");
  check_scalar(delta, x_in, "delta");
  const bool weight = target == QuantTarget::weight;
  const float lm1 = static_cast<float>((1 << bits) - 1);
  Tensor x = x_in.contiguous(), lc = l.contiguous(), uc = u.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::ewgs_forward(x.data<float>(), y.data<float>(), x.numel(), lc.item(), uc.item(), lm1, weight);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::ewgs_forward(x.data<float>(), y.data<float>(), x.numel(), lc.data<float>(), uc.data<float>(), lm1, weight);
#else
      cuda_missing("ewgs_quantize");
#endif
      break;
  }
  if (needs_grad({&x_in, &l, &u})) {
    Tensor xs = x.detach(), ls = lc.detach(), us = uc.detach(), ds = delta.contiguous().detach();
    Shape lshape = l.shape(), ushape = u.shape();
    record(y, "ewgs_quantize", {x_in, l, u}, [=](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      Tensor dl, du;
      switch (xs.device().type) {
        case DeviceType::CPU: {
          double sl = 0.0, su = 0.0;
          cpu::ewgs_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), ls.item(), us.item(),
                             ds.item(), lm1, weight, &sl, &su);
          dl = Tensor::full(lshape, static_cast<float>(sl));
          du = Tensor::full(ushape, static_cast<float>(su));
          break;
        }
        case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
          dl = Tensor::empty(lshape, DType::f32, xs.device());
          du = Tensor::empty(ushape, DType::f32, xs.device());
          Tensor acc = Tensor::empty({4}, DType::f32, xs.device());  // 2 doubles of scratch (16 B, aligned)
          cuda::ewgs_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), ls.data<float>(),
                              us.data<float>(), ds.data<float>(), lm1, weight,
                              reinterpret_cast<double*>(acc.data<float>()), dl.data<float>(), du.data<float>());
#else
          cuda_missing("ewgs_quantize backward");
#endif
          break;
        }
      }
      return std::vector<Tensor>{dx, dl, du};
    });
  }
  return y;
}

Tensor ewgs_quantize(const Tensor& x, const Tensor& l, const Tensor& u, float delta, int bits, QuantTarget target) {
  return ewgs_quantize(x, l, u, Tensor::full({}, delta, DType::f32, x.device()), bits, target);
}

EwgsQuantizer::EwgsQuantizer(const QuantConfig& config) : Quantizer(config) {
  const double delta = config_.option("delta", kEwgsDefaultDelta);
  LOWBIT_CHECK(delta >= 0.0, "ewgs: option delta must be >= 0, got ", delta);
  l_ = register_parameter("l", Tensor::full({}, is_weight() ? -1.f : 0.f));
  u_ = register_parameter("u", Tensor::full({}, 1.f));
  delta_ = register_buffer("delta", Tensor::full({}, static_cast<float>(delta)));
}

Tensor EwgsQuantizer::forward(const Tensor& x) {
  if (probe_on_) return probed_forward(x);
  if (is_training()) return ewgs_quantize(x, l_, u_, delta_, bits(), target());
  NoGradGuard no_grad;
  return ewgs_quantize(x, l_, u_, delta_, bits(), target());
}

void EwgsQuantizer::set_probe_enabled(bool on) {
  probe_on_ = on;
  probe_ = Tensor();
  residual_ = Tensor();
}

Tensor EwgsQuantizer::probed_forward(const Tensor& x) {
  LOWBIT_CHECK(is_training(), "ewgs probe: the Hessian probe needs the training forward (call train())");
  Tensor y = ewgs_quantize(x, l_, u_, delta_, bits(), target());
  if (!is_weight()) {
    Tensor correction;
    {
      NoGradGuard no_grad;
      Tensor xn = clamp(div(sub(x.detach(), l_.detach()), sub(u_, l_).detach()), 0.f, 1.f);
      if (!residual_.defined()) {
        residual_ = sub(xn, y.detach());  // the base point: y itself is returned
      } else {
        LOWBIT_CHECK(residual_.shape() == y.shape(), "ewgs probe: input ", shape_str(x.shape()),
                     " differs from the base forward's ", shape_str(residual_.shape()), " (use one fixed batch)");
        correction = sub(sub(xn, residual_), y.detach());  // value x_n(x) − r0, gradient unchanged
      }
    }
    if (correction.defined()) y = add(y, correction);
  }
  if (!probe_.defined() || probe_.shape() != y.shape()) {
    probe_ = Tensor::zeros(y.shape(), DType::f32, y.device());
    probe_.requires_grad_(true);
  }
  return add(y, probe_);
}

void EwgsQuantizer::initialize(const Tensor& x) {
  LOWBIT_CHECK(x.numel() >= 2, "ewgs initialize: needs at least 2 elements for std, got ", shape_str(x.shape()));
  NoGradGuard no_grad;
  Tensor xd = x.detach();
  Tensor sd = lowbit::std(xd).reshape({});
  if (is_weight()) {
    l_.copy_(mul(sd, -3.f));
    u_.copy_(mul(sd, 3.f));
  } else {
    l_.copy_(min(xd).reshape({}));
    u_.copy_(mul(sd, static_cast<float>(3.0 / std::sqrt(1.0 - 2.0 / std::numbers::pi))));
  }
  const float lv = l_.item(), uv = u_.item();
  LOWBIT_CHECK(uv > lv, "ewgs initialize (", quant_target_name(target()), "): the batch gives u = ", uv,
               " <= l = ", lv, " (constant input?)");
  mark_initialized();
}

void EwgsQuantizer::set_delta(float delta) {
  LOWBIT_CHECK(delta >= 0.f && std::isfinite(delta), "ewgs set_delta: delta must be finite and >= 0, got ", delta);
  NoGradGuard no_grad;
  delta_.fill_(delta);
}

float EwgsQuantizer::delta() const { return delta_.item(); }

std::shared_ptr<Quantizer> make_ewgs_quantizer(const QuantConfig& config) {
  LOWBIT_CHECK(config.bits >= kMinBits && config.bits <= kMaxBits, "ewgs: ", quant_target_name(config.target),
               " bit-width ", config.bits, " is not supported (allowed: 1-8)");
  return std::make_shared<EwgsQuantizer>(config);
}

}  // namespace lowbit
