// DAQ op (forward/backward dispatch, autograd record) and the DaqQuantizer module.
#include "quant/daq.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_daq.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_daq.h"
#endif

namespace lowbit {

namespace {

constexpr int kMinBits = 1, kMaxBits = 8;

void check_bits(int bits, QuantTarget target) {
  LOWBIT_CHECK(bits >= kMinBits && bits <= kMaxBits, "daq: ", quant_target_name(target), " width ", bits,
               " is not supported (DAQ defines 1-8 bits for weights and activations; 32 = full precision is the "
               "layer's, without a quantizer)");
}

void check_inputs(const Tensor& x, const Tensor& l, const Tensor& u, const char* op) {
  check_dtype(x, DType::f32, op, "x");
  check_dtype(l, DType::f32, op, "l");
  check_dtype(u, DType::f32, op, "u");
  LOWBIT_CHECK(l.numel() == 1 && u.numel() == 1, op, ": l and u must be one-element tensors, got shapes ",
               shape_str(l.shape()), " and ", shape_str(u.shape()));
  check_same_device(x, l, op);
  check_same_device(x, u, op);
}

// Device scratch of 2 doubles (CUDA accumulators).
[[maybe_unused]] double* scratch2(Tensor& t, Device device) {
  t = Tensor::empty({4}, DType::f32, device);
  return reinterpret_cast<double*>(t.data<float>());
}

DaqConsts consts_for(int bits, QuantTarget target, double gamma, double sigma) {
  return daq_consts(bits, gamma, sigma > 0.0 ? sigma : daq_default_sigma(target), target == QuantTarget::weight);
}

// Shared forward of the train and eval paths; returns y and (weights) the statistics used.
Tensor forward_impl(const Tensor& x, const Tensor& l, const Tensor& u, const DaqConsts& k, bool eval, Tensor* stats_out,
                    const char* op) {
  Tensor stats = k.weight ? daq_weight_stats(x) : Tensor();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::daq_forward(x.data<float>(), y.data<float>(), x.numel(), l.item(), u.item(),
                       k.weight ? stats.data<float>() : nullptr, k, eval);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::daq_forward(x.data<float>(), y.data<float>(), x.numel(), l.data<float>(), u.data<float>(),
                        k.weight ? stats.data<float>() : nullptr, k, eval);
      break;
#else
      cuda_missing(op);
#endif
  }
  if (stats_out) *stats_out = stats;
  return y;
}

}  // namespace

double daq_default_sigma(QuantTarget target) { return target == QuantTarget::weight ? 1.0 : 2.0; }

Tensor daq_weight_stats(const Tensor& w_in) {
  check_dtype(w_in, DType::f32, "daq_weight_stats", "w");
  LOWBIT_CHECK(w_in.numel() >= 2, "daq_weight_stats: the unbiased std needs at least 2 elements, got shape ",
               shape_str(w_in.shape()));
  Tensor w = w_in.detach().contiguous();
  Tensor stats = Tensor::empty({2}, DType::f32, w.device());
  switch (w.device().type) {
    case DeviceType::CPU: cpu::daq_weight_stats(w.data<float>(), w.numel(), stats.data<float>()); break;
    case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
      Tensor scratch;
      cuda::daq_weight_stats(w.data<float>(), w.numel(), stats.data<float>(), scratch2(scratch, w.device()));
      break;
#else
      cuda_missing("daq_weight_stats");
#endif
    }
  }
  return stats;
}

Tensor daq_quantize(const Tensor& x_in, const Tensor& l_in, const Tensor& u_in, int bits, QuantTarget target,
                    double gamma, double sigma) {
  const char* op = "daq_quantize";
  check_inputs(x_in, l_in, u_in, op);
  check_bits(bits, target);
  DaqConsts k = consts_for(bits, target, gamma, sigma);
  Tensor x = x_in.contiguous();
  Tensor l = l_in.detach().contiguous(), u = u_in.detach().contiguous();
  Tensor stats;
  Tensor y = forward_impl(x.detach(), l, u, k, /*eval=*/false, &stats, op);
  if (needs_grad({&x_in, &l_in, &u_in})) {
    Tensor xs = x.detach();
    Shape ls = l_in.shape(), us = u_in.shape();
    record(y, op, {x_in, l_in, u_in}, [xs, l, u, stats, k, ls, us, op](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      Tensor dl = Tensor::empty(ls, DType::f32, xs.device()), du = Tensor::empty(us, DType::f32, xs.device());
      const float* st = k.weight ? stats.data<float>() : nullptr;
      switch (xs.device().type) {
        case DeviceType::CPU: {
          double sl = 0.0, su = 0.0;
          cpu::daq_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), l.item(), u.item(), st, k,
                            &sl, &su);
          dl.data<float>()[0] = static_cast<float>(sl);
          du.data<float>()[0] = static_cast<float>(su);
          break;
        }
        case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
          Tensor scratch;
          cuda::daq_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), l.data<float>(),
                             u.data<float>(), st, k, scratch2(scratch, xs.device()), dl.data<float>(), du.data<float>());
          break;
#else
          cuda_missing(op);
#endif
        }
      }
      return std::vector<Tensor>{dx, dl, du};
    });
  }
  return y;
}

Tensor daq_quantize_eval(const Tensor& x_in, const Tensor& l_in, const Tensor& u_in, int bits, QuantTarget target) {
  const char* op = "daq_quantize_eval";
  check_inputs(x_in, l_in, u_in, op);
  check_bits(bits, target);
  DaqConsts k = consts_for(bits, target, kDaqGamma, 0.0);
  return forward_impl(x_in.detach().contiguous(), l_in.detach().contiguous(), u_in.detach().contiguous(), k,
                      /*eval=*/true, nullptr, op);
}

// ---- the module ----

DaqQuantizer::DaqQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
  check_bits(bits(), target());
  gamma_ = config_.option("gamma", kDaqGamma);
  sigma_ = config_.option("sigma", daq_default_sigma(target()));
  LOWBIT_CHECK(gamma_ > 0.0 && sigma_ > 0.0, "daq: gamma and sigma must be positive, got gamma=", gamma_,
               " sigma=", sigma_);
  if (is_weight()) {
    l_ = register_parameter("l", Tensor::full({}, -3.0f));
    u_ = register_parameter("u", Tensor::full({}, 3.0f));
  } else {
    l_ = register_buffer("l", Tensor::zeros({}));  // l ≡ 0 for post-ReLU inputs, not trained
    u_ = register_parameter("u", Tensor::full({}, 3.0f));
  }
}

void DaqQuantizer::initialize(const Tensor& x) {
  if (!is_weight()) {
    float std = daq_weight_stats(x).to(Device::cpu()).data<float>()[1];
    NoGradGuard guard;
    u_.copy_(Tensor::full({}, 3.0f * std));
  }
  mark_initialized();
}

Tensor DaqQuantizer::forward(const Tensor& x) {
  if (!is_training()) return daq_quantize_eval(x, l_, u_, bits(), target());
  if (!initialized()) initialize(x);
  return daq_quantize(x, l_, u_, bits(), target(), gamma_, sigma_);
}

std::shared_ptr<Quantizer> make_daq_quantizer(const QuantConfig& config) {
  return std::make_shared<DaqQuantizer>(config);
}

}  // namespace lowbit
