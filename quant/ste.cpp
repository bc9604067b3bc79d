// STE / saturating-STE op (CPU and CUDA dispatch, backward) and its Quantizer.
#include "quant/ste.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_baseline.h"
#include "quant/baseline_common.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_baseline.h"
#endif

namespace lowbit {

Tensor ste_quantize(const Tensor& x_in, int bits, QuantTarget target, bool saturate) {
  qbase_detail::check_f32_input(x_in, "ste_quantize", "x");
  qbase_detail::check_bits(bits, 1, 8, "ste_quantize");
  Tensor x = x_in.contiguous();
  float lo = target == QuantTarget::weight ? -1.f : 0.f;
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::qbase::ste_forward(x.data<float>(), y.data<float>(), x.numel(), bits, lo); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::qbase::ste_forward(x.data<float>(), y.data<float>(), x.numel(), bits, lo);
      break;
#else
      cuda_missing("ste_quantize");
#endif
  }
  if (needs_grad({&x_in})) {
    Tensor xs = x.detach();
    record(y, "ste_quantize", {x_in}, [xs, saturate](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::qbase::ste_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), saturate);
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::qbase::ste_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel(), saturate);
          break;
#else
          cuda_missing("ste_quantize backward");
#endif
      }
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

namespace {

class SteQuantizer : public Quantizer {
 public:
  explicit SteQuantizer(QuantConfig config)
      : Quantizer(std::move(config)), saturate_(config_.option("saturate", 0.0) != 0.0) {}
  Tensor forward(const Tensor& x) override { return ste_quantize(x, bits(), target(), saturate_); }

 private:
  bool saturate_;
};

}  // namespace

std::shared_ptr<Quantizer> make_ste_quantizer(const QuantConfig& config) {
  qbase_detail::check_width(config, qbase_detail::widths(1, 8), "ste");
  return std::make_shared<SteQuantizer>(config);
}

}  // namespace lowbit
