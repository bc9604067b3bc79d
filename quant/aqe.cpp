// AQE ops (train forward with backward, hard eval forward), device dispatch, the AqeQuantizer,
// and the weight-clip helpers.
#include "quant/aqe.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/optim/clip.h"
#include "kernels/cpu/quant_aqe.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_aqe.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

void check_f32(const Tensor& t, const char* op, const char* arg) {
  LOWBIT_CHECK(t.dtype() == DType::f32, op, ": ", arg, " must be f32, got ", dtype_name(t.dtype()), " (shape ",
               shape_str(t.shape()), ")");
}

// Shared forward: alpha undefined → hard.
Tensor aqe_forward_raw(const Tensor& x, const Tensor& alpha, AqeLevels levels, float delta, const char* op) {
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  const float* a = alpha.defined() ? alpha.data<float>() : nullptr;
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::aqe_forward(x.data<float>(), y.data<float>(), x.numel(), static_cast<int>(levels), delta, a);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::aqe_forward(x.data<float>(), y.data<float>(), x.numel(), static_cast<int>(levels), delta, a);
      break;
#else
      cuda_missing(op);
#endif
  }
  return y;
}

}  // namespace

AqeLevels aqe_levels_for_bits(int bits, QuantTarget target) {
  switch (bits) {
    case 1: return AqeLevels::sign;
    case 2: return AqeLevels::ternary;
    case 3: return AqeLevels::pow2;
    default:
      LOWBIT_FAIL("aqe: ", quant_target_name(target), " quantizer does not support ", bits,
                  " bits (supported: 1 = sign, 2 = ternary, 3 = power-of-two levels)");
  }
}

Tensor aqe_quantize(const Tensor& x_in, const Tensor& alpha, AqeLevels levels, float delta) {
  const char* op = "aqe_quantize";
  check_f32(x_in, op, "x");
  check_f32(alpha, op, "alpha");
  LOWBIT_CHECK(alpha.numel() == 1, op, ": alpha must hold one element, got shape ", shape_str(alpha.shape()));
  check_same_device(x_in, alpha, op);
  Tensor x = x_in.contiguous(), a = alpha.detach().contiguous();
  Tensor y = aqe_forward_raw(x, a, levels, delta, op);
  if (needs_grad({&x_in})) {
    Tensor xs = x.detach();
    record(y, op, {x_in}, [xs, a, op](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::aqe_backward(g.data<float>(), xs.data<float>(), dx.data<float>(), xs.numel(), a.data<float>());
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::aqe_backward(g.data<float>(), xs.data<float>(), dx.data<float>(), xs.numel(), a.data<float>());
          break;
#else
          cuda_missing(op);
#endif
      }
      return Grads{dx};
    });
  }
  return y;
}

Tensor aqe_hard(const Tensor& x_in, AqeLevels levels, float delta) {
  check_f32(x_in, "aqe_hard", "x");
  return aqe_forward_raw(x_in.contiguous(), Tensor(), levels, delta, "aqe_hard");
}

float aqe_relative_delta(const Tensor& w, float rel) {
  NoGradGuard no_grad;
  return rel * mean(abs(w.detach())).item();
}

AqeQuantizer::AqeQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
  levels_ = aqe_levels_for_bits(bits(), target());
  const bool has_delta = config_.options.count("delta") > 0, has_rel = config_.options.count("delta_rel") > 0;
  LOWBIT_CHECK(!(has_delta && has_rel), "aqe: give option delta (fixed threshold) or delta_rel (relative), not both");
  LOWBIT_CHECK(!has_rel || is_weight(), "aqe: option delta_rel (Δ = delta_rel·mean|W|) is for weights only");
  delta_ = static_cast<float>(config_.option("delta", kAqeDefaultDelta));
  LOWBIT_CHECK(delta_ > 0.f && delta_ < 1.f, "aqe: option delta (ternary threshold) must be in (0, 1), got ", delta_);
  if (is_weight() && !has_delta) {
    delta_rel_ = static_cast<float>(config_.option("delta_rel", kAqeDefaultDeltaRel));
    LOWBIT_CHECK(delta_rel_ > 0.f && delta_rel_ <= 2.f,
                 "aqe: option delta_rel (relative ternary threshold) must be in (0, 2], got ", delta_rel_);
  }
  alpha_ = register_buffer("alpha", Tensor::full({}, kAqeDefaultAlpha));
  set_alpha(static_cast<float>(config_.option("alpha", kAqeDefaultAlpha)));
}

void AqeQuantizer::set_alpha(float alpha) {
  LOWBIT_CHECK(alpha >= 0.f && alpha <= 1.f, "aqe: alpha must be in [0, 1], got ", alpha);
  NoGradGuard no_grad;
  alpha_.fill_(alpha);
}

float AqeQuantizer::alpha() const { return alpha_.item(); }

float AqeQuantizer::delta_for(const Tensor& x) const {
  if (levels_ != AqeLevels::ternary || !relative_delta()) return delta_;
  return aqe_relative_delta(x, delta_rel_);
}

Tensor AqeQuantizer::forward(const Tensor& x) {
  const float delta = delta_for(x);
  if (is_training()) return aqe_quantize(x, alpha_, levels_, delta);
  return aqe_hard(x, levels_, delta);
}

void aqe_clip_weights(const std::vector<Tensor>& weights) { clip_weights(weights, -1.f, 1.f); }

Optimizer::Hook aqe_weight_clip_hook(std::vector<Tensor> weights) {
  return weight_clip_hook(std::move(weights), -1.f, 1.f);
}

std::shared_ptr<Quantizer> make_aqe_quantizer(const QuantConfig& config) {
  aqe_levels_for_bits(config.bits, config.target);  // refuses other widths
  return std::make_shared<AqeQuantizer>(config);
}

}  // namespace lowbit
