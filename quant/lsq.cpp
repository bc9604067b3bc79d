// LSQ quantizer op (device dispatch, autograd record) and the LsqQuantizer module.
#include "quant/lsq.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "kernels/cpu/quant_lsq.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_lsq.h"
#endif

namespace lowbit {

namespace {

constexpr int kMaxBits = 8;
int min_bits(QuantTarget target) { return target == QuantTarget::weight ? 2 : 1; }

}  // namespace

LsqRange lsq_range(int bits, QuantTarget target) {
  LOWBIT_CHECK(bits >= min_bits(target) && bits <= kMaxBits, "lsq: ", quant_target_name(target), " bit-width ", bits,
               " is not supported (allowed: ", min_bits(target), "-", kMaxBits, ")");
  if (target == QuantTarget::weight) return {1 << (bits - 1), (1 << (bits - 1)) - 1};
  return {0, (1 << bits) - 1};
}

int64_t lsq_grad_scale_count(const Tensor& x, QuantTarget target) {
  if (target == QuantTarget::weight || x.dim() < 2 || x.size(0) == 0) return x.numel();
  return x.numel() / x.size(0);
}

Tensor lsq_quantize(const Tensor& x_in, const Tensor& s, int bits, QuantTarget target, double grad_scale) {
  LOWBIT_CHECK(x_in.dtype() == DType::f32, "lsq_quantize: x must be f32, got ", dtype_name(x_in.dtype()), " ",
               shape_str(x_in.shape()));
  LOWBIT_CHECK(s.defined() && s.dtype() == DType::f32 && s.numel() == 1,
               "lsq_quantize: s must be a one-element f32 tensor, got ", s.defined() ? shape_str(s.shape()) : "undefined");
  check_same_device(x_in, s, "lsq_quantize");
  const LsqRange r = lsq_range(bits, target);
  const float qn = static_cast<float>(r.qn), qp = static_cast<float>(r.qp);
  Tensor x = x_in.contiguous(), sc = s.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::lsq_forward(x.data<float>(), y.data<float>(), x.numel(), sc.item(), qn, qp); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::lsq_forward(x.data<float>(), y.data<float>(), x.numel(), sc.data<float>(), qn, qp);
#else
      cuda_missing("lsq_quantize");
#endif
      break;
  }
  if (needs_grad({&x_in, &s})) {
    Tensor xs = x.detach(), ss = sc.detach();
    Shape sshape = s.shape();
    record(y, "lsq_quantize", {x_in, s}, [=](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      Tensor ds;
      switch (xs.device().type) {
        case DeviceType::CPU: {
          double acc = 0.0;
          cpu::lsq_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), ss.item(), qn, qp,
                            grad_scale, &acc);
          ds = Tensor::full(sshape, static_cast<float>(acc));
          break;
        }
        case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
          ds = Tensor::empty(sshape, DType::f32, xs.device());
          Tensor acc = Tensor::empty({2}, DType::f32, xs.device());  // 1 double of scratch
          cuda::lsq_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), ss.data<float>(), qn, qp,
                             grad_scale, reinterpret_cast<double*>(acc.data<float>()), ds.data<float>());
#else
          cuda_missing("lsq_quantize backward");
#endif
          break;
        }
      }
      return std::vector<Tensor>{dx, ds};
    });
  }
  return y;
}

LsqQuantizer::LsqQuantizer(const QuantConfig& config) : Quantizer(config), range_(lsq_range(config.bits, config.target)) {
  s_ = register_parameter("s", Tensor::full({}, 1.f));
}

Tensor LsqQuantizer::forward(const Tensor& x) {
  const double n = static_cast<double>(lsq_grad_scale_count(x, target()));
  const double grad_scale = 1.0 / std::sqrt(std::max(n, 1.0) * range_.qp);
  if (is_training()) return lsq_quantize(x, s_, bits(), target(), grad_scale);
  NoGradGuard no_grad;
  return lsq_quantize(x, s_, bits(), target(), grad_scale);
}

void LsqQuantizer::initialize(const Tensor& x) {
  LOWBIT_CHECK(x.numel() >= 1, "lsq initialize: empty batch ", shape_str(x.shape()));
  NoGradGuard no_grad;
  s_.copy_(mul(mean(abs(x.detach())), static_cast<float>(2.0 / std::sqrt(static_cast<double>(range_.qp)))).reshape({}));
  const float sv = s_.item();
  LOWBIT_CHECK(sv > 0.f && std::isfinite(sv), "lsq initialize (", quant_target_name(target()),
               "): the batch gives step size s = ", sv, " (all-zero input?)");
  mark_initialized();
}

std::shared_ptr<Quantizer> make_lsq_quantizer(const QuantConfig& config) {
  lsq_range(config.bits, config.target);  // refuses unsupported widths
  return std::make_shared<LsqQuantizer>(config);
}

}  // namespace lowbit
