// PACT op (CPU and CUDA dispatch; backward with the α gradient reduced in the kernel) and its
// Quantizer.
#include "quant/pact.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_baseline.h"
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

namespace {

class PactQuantizer : public Quantizer {
 public:
  explicit PactQuantizer(QuantConfig config) : Quantizer(std::move(config)) {
    alpha_ = register_parameter("alpha", Tensor::full({}, static_cast<float>(config_.option("alpha", 10.0))));
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
