// PACT op (CPU and CUDA dispatch; backward with the α gradient reduced in the kernel) and its
// Quantizer.
#include "quant/pact.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_baseline.h"
#include "kernels/quant/baseline_math.h"
#include "quant/baseline_common.h"
#include "quant/dorefa.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_baseline.h"
#endif

namespace lowbit {

Tensor pact_quantize(const Tensor& x_in, const Tensor& alpha_p, int bits) {
  qbase_detail::check_f32_input(x_in, "pact_quantize", "x");
  qbase_detail::check_f32_input(alpha_p, "pact_quantize", "alpha_p");
  LOWBIT_CHECK(alpha_p.numel() == 1, "pact_quantize: alpha_p must have one element, got shape ",
               shape_str(alpha_p.shape()));
  check_same_device(x_in, alpha_p, "pact_quantize");
  qbase_detail::check_bits(bits, 1, 8, "pact_quantize");
  Tensor x = x_in.contiguous(), a = alpha_p.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::qbase::pact_forward(x.data<float>(), y.data<float>(), x.numel(), a.item(), bits); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::qbase::pact_forward(x.data<float>(), y.data<float>(), x.numel(), a.data<float>(), bits);
      break;
#else
      cuda_missing("pact_quantize");
#endif
  }
  if (needs_grad({&x_in, &alpha_p})) {
    Tensor xs = x.detach(), as = a.detach();
    Shape ashape = alpha_p.shape();
    record(y, "pact_quantize", {x_in, alpha_p}, [xs, as, ashape](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      Tensor da = Tensor::empty(ashape, DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::qbase::pact_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), as.item(),
                                    da.data<float>());
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::qbase::pact_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(),
                                     as.data<float>(), da.data<float>());
          break;
#else
          cuda_missing("pact_quantize backward");
#endif
      }
      return std::vector<Tensor>{dx, da};
    });
  }
  return y;
}

float pact_mse_clip(const Tensor& x, int bits) {
  qbase_detail::check_f32_input(x, "pact_mse_clip", "x");
  qbase_detail::check_bits(bits, 1, 8, "pact_mse_clip");
  constexpr int kBins = 2048, kCandidates = 200;
  const std::vector<float> v = x.to_vector();
  float top = 0.f;
  for (float e : v)
    if (e > top) top = e;  // NaN compares false: skipped
  if (!(top > 0.f) || !std::isfinite(top)) return 1.f;
  std::vector<double> count(kBins, 0.0);
  const double width = static_cast<double>(top) / kBins;
  for (float e : v)
    if (e > 0.f && e <= top) count[std::min(kBins - 1, static_cast<int>(static_cast<double>(e) / width))] += 1.0;
  float best = top;
  double best_err = std::numeric_limits<double>::infinity();
  for (int k = 1; k <= kCandidates; ++k) {
    const float a = static_cast<float>(static_cast<double>(top) * k / kCandidates);
    double err = 0.0;
    for (int b = 0; b < kBins; ++b) {
      if (count[b] == 0.0) continue;
      const float c = static_cast<float>((b + 0.5) * width);
      const double d = static_cast<double>(c) - static_cast<double>(basemath::pact_forward(c, a, bits));
      err += count[b] * d * d;
    }
    if (err < best_err) {  // strict: ties keep the smaller clip
      best_err = err;
      best = a;
    }
  }
  return best;
}

namespace {

class PactQuantizer : public Quantizer {
 public:
  explicit PactQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
    alpha_ = register_parameter("alpha", Tensor::full({}, static_cast<float>(config_.option("alpha", 10.0))));
  }
  // Without the option "alpha": the clip that fits the first batch (pact_mse_clip).
  void initialize(const Tensor& x) override {
    if (config_.options.count("alpha") == 0) {
      NoGradGuard no_grad;
      alpha_.fill_(pact_mse_clip(x, bits()));
    }
    mark_initialized();
  }
  Tensor forward(const Tensor& x) override { return pact_quantize(x, alpha_, bits()); }

 private:
  Tensor alpha_;
};

}  // namespace

std::shared_ptr<Quantizer> make_pact_quantizer(const QuantConfig& config) {
  if (config.target == QuantTarget::weight) {
    qbase_detail::check_width(config, qbase_detail::widths(1, 8), "pact");
    return make_dorefa_quantizer(config);
  }
  qbase_detail::check_width(config, qbase_detail::widths(1, 8), "pact");
  LOWBIT_CHECK(config.option("alpha", 10.0) != 0.0, "pact: option alpha (the initial clip) must be nonzero");
  return std::make_shared<PactQuantizer>(config);
}

}  // namespace lowbit
