// SAT ops (weight quantizer with constant rescaling, CG-PACT) with their backward, device
// dispatch, and the two Quantizer classes.
#include "quant/sat.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_sat.h"
#include "quant/pact.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_sat.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

void check_bits(int bits, const char* op) {
  LOWBIT_CHECK(bits >= 1 && bits <= 8, op, ": bits must be 1–8, got ", bits);
}

void check_f32(const Tensor& t, const char* op, const char* arg) {
  LOWBIT_CHECK(t.dtype() == DType::f32, op, ": ", arg, " must be f32, got ", dtype_name(t.dtype()), " (shape ",
               shape_str(t.shape()), ")");
}

// Device scratch for `count` double accumulators (there is no f64 dtype: 2 f32 slots each).
[[maybe_unused]] Tensor double_scratch(int64_t count, Device device) { return Tensor::empty({2 * count}, DType::f32, device); }

}  // namespace

int64_t sat_n_out(const Shape& s) {
  if (s.size() == 4) return s[0] * s[1] * s[2];
  return s.empty() ? 1 : s[0];
}

Tensor sat_weight_quantize(const Tensor& w_in, const SatWeightOptions& opt, Tensor* stats_out) {
  const char* op = "sat_weight_quantize";
  check_f32(w_in, op, "weight");
  check_bits(opt.bits, op);
  LOWBIT_CHECK(opt.n_out >= 1, op, ": n_out must be >= 1, got ", opt.n_out);
  Tensor w = w_in.contiguous();
  Tensor y = Tensor::empty(w.shape(), DType::f32, w.device());
  Tensor stats = Tensor::empty({3}, DType::f32, w.device());
  const int scheme = static_cast<int>(opt.scheme);
  switch (w.device().type) {
    case DeviceType::CPU:
      cpu::sat_weight_stats(w.data<float>(), w.numel(), opt.bits, scheme, opt.rescale, opt.n_out, stats.data<float>());
      cpu::sat_weight_forward(w.data<float>(), y.data<float>(), w.numel(), opt.bits, scheme, stats.data<float>());
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
    {
      Tensor work = double_scratch(3, w.device());
      cuda::sat_weight_forward(w.data<float>(), y.data<float>(), stats.data<float>(),
                               reinterpret_cast<double*>(work.data<float>()), w.numel(), opt.bits, scheme, opt.rescale,
                               opt.n_out);
      break;
    }
#else
      cuda_missing(op);
#endif
  }
  if (stats_out) *stats_out = stats;
  if (needs_grad({&w_in})) {
    Tensor ws = w.detach();
    const bool autograd_max = opt.max_grad == SatMaxGrad::autograd;
    record(y, op, {w_in}, [ws, stats, autograd_max, op](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(ws.shape(), DType::f32, ws.device());
      switch (ws.device().type) {
        case DeviceType::CPU:
          cpu::sat_weight_backward(g.data<float>(), ws.data<float>(), dx.data<float>(), ws.numel(),
                                   stats.data<float>(), autograd_max);
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        {
          Tensor work = double_scratch(cuda::kMaxPathScratchWords, ws.device());
          cuda::sat_weight_backward(g.data<float>(), ws.data<float>(), dx.data<float>(), stats.data<float>(),
                                    reinterpret_cast<double*>(work.data<float>()), ws.numel(), autograd_max);
          break;
        }
#else
          cuda_missing(op);
#endif
      }
      return Grads{dx};
    });
  }
  return y;
}

Tensor cgpact_quantize(const Tensor& x_in, const Tensor& alpha_p, int bits) {
  const char* op = "cgpact_quantize";
  check_f32(x_in, op, "x");
  check_f32(alpha_p, op, "alpha_p");
  check_bits(bits, op);
  LOWBIT_CHECK(alpha_p.numel() == 1, op, ": alpha_p must hold one element, got shape ", shape_str(alpha_p.shape()));
  check_same_device(x_in, alpha_p, op);
  Tensor x = x_in.contiguous(), a = alpha_p.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::cgpact_forward(x.data<float>(), y.data<float>(), x.numel(), bits, a.data<float>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::cgpact_forward(x.data<float>(), y.data<float>(), x.numel(), bits, a.data<float>());
      break;
#else
      cuda_missing(op);
#endif
  }
  if (needs_grad({&x_in, &alpha_p})) {
    Tensor xs = x.detach(), as = a.detach();
    Shape alpha_shape = alpha_p.shape();
    record(y, op, {x_in, alpha_p}, [xs, as, bits, alpha_shape, op](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      Tensor da = Tensor::empty(alpha_shape, DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::cgpact_backward(g.data<float>(), xs.data<float>(), dx.data<float>(), da.data<float>(), xs.numel(), bits,
                               as.data<float>());
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        {
          Tensor work = double_scratch(1, xs.device());
          cuda::cgpact_backward(g.data<float>(), xs.data<float>(), dx.data<float>(), da.data<float>(),
                                reinterpret_cast<double*>(work.data<float>()), xs.numel(), bits, as.data<float>());
          break;
        }
#else
          cuda_missing(op);
#endif
      }
      return Grads{dx, da};
    });
  }
  return y;
}

// ---- SatWeightQuantizer ----

SatWeightQuantizer::SatWeightQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
  const double scheme = config_.option("scheme", bits() <= 2 ? 2 : 1), max_grad = config_.option("max_grad", 0);
  LOWBIT_CHECK(scheme == 0 || scheme == 1 || scheme == 2,
               "sat weight quantizer: option scheme must be 0 (original), 1 (modified) or 2 (centered), got ", scheme);
  LOWBIT_CHECK(max_grad == 0 || max_grad == 1,
               "sat weight quantizer: option max_grad must be 0 (autograd) or 1 (constant), got ", max_grad);
  scheme_ = static_cast<SatScheme>(static_cast<int>(scheme));
  max_grad_ = static_cast<SatMaxGrad>(static_cast<int>(max_grad));
  rescale_fc_ = config_.option("rescale", 1) != 0;
  rescale_conv_ = config_.option("rescale_conv", 0) != 0;
}

SatWeightOptions SatWeightQuantizer::options_for(const Shape& s) const {
  SatWeightOptions o;
  o.bits = bits();
  o.scheme = scheme_;
  o.max_grad = max_grad_;
  o.n_out = sat_n_out(s);
  o.rescale = s.size() == 4 ? rescale_conv_ : rescale_fc_;
  return o;
}

Tensor SatWeightQuantizer::forward(const Tensor& w) {
  if (is_training()) return sat_weight_quantize(w, options_for(w.shape()));
  NoGradGuard no_grad;  // eval: the same hard values (see the header), no graph
  return sat_weight_quantize(w, options_for(w.shape()));
}

// ---- CgPactQuantizer ----

CgPactQuantizer::CgPactQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
  const double clip_init = config_.option("clip_init", 0);
  LOWBIT_CHECK(clip_init == 0 || clip_init == 1,
               "sat activation quantizer: option clip_init must be 0 (fit the first batch) or 1 (AdaBits' 8 / 10), got ",
               clip_init);
  adabits_init_ = clip_init == 1;
  alpha_ = register_parameter("alpha", Tensor::full({}, static_cast<float>(config_.option("alpha_init", 8.0))));
}

void CgPactQuantizer::initialize(const Tensor& x) {
  if (config_.options.count("alpha_init") == 0) {
    NoGradGuard no_grad;
    if (!adabits_init_) alpha_.fill_(pact_mse_clip(x, bits()));
    else if (x.dim() == 2) alpha_.fill_(10.0f);  // AdaBits' FC-input clip (conv inputs keep 8)
  }
  mark_initialized();
}

Tensor CgPactQuantizer::forward(const Tensor& x) {
  if (is_training()) return cgpact_quantize(x, alpha_, bits());
  NoGradGuard no_grad;
  return cgpact_quantize(x, alpha_, bits());
}

std::shared_ptr<Quantizer> make_sat_quantizer(const QuantConfig& config) {
  LOWBIT_CHECK(config.bits >= 1 && config.bits <= 8, "sat: ", quant_target_name(config.target),
               " quantizer does not support ", config.bits, " bits (supported: 1–8)");
  if (config.target == QuantTarget::weight) return std::make_shared<SatWeightQuantizer>(config);
  return std::make_shared<CgPactQuantizer>(config);
}

}  // namespace lowbit
