// XNOR-Net weight op (per-channel α in the forward kernel, backward with the α path) and its
// Quantizer.
#include "quant/xnor.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_baseline.h"
#include "quant/baseline_common.h"
#include "quant/bnn.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_baseline.h"
#endif

namespace lowbit {

Tensor xnor_weight(const Tensor& w_in) {
  qbase_detail::check_f32_input(w_in, "xnor_weight", "w");
  LOWBIT_CHECK(w_in.dim() >= 2 && w_in.numel() > 0, "xnor_weight: w must be a non-empty weight of rank >= 2 ",
               "([out, in] or OHWI), got shape ", shape_str(w_in.shape()));
  Tensor w = w_in.contiguous();
  int64_t channels = w.size(0), per = w.numel() / channels;
  Tensor y = Tensor::empty(w.shape(), DType::f32, w.device());
  Tensor alpha = Tensor::empty({channels}, DType::f32, w.device());
  switch (w.device().type) {
    case DeviceType::CPU:
      cpu::qbase::xnor_weight_forward(w.data<float>(), y.data<float>(), alpha.data<float>(), channels, per);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::qbase::xnor_weight_forward(w.data<float>(), y.data<float>(), alpha.data<float>(), channels, per);
      break;
#else
      cuda_missing("xnor_weight");
#endif
  }
  if (needs_grad({&w_in})) {
    Tensor ws = w.detach();
    record(y, "xnor_weight", {w_in}, [ws, alpha, channels, per](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dw = Tensor::empty(ws.shape(), DType::f32, ws.device());
      switch (ws.device().type) {
        case DeviceType::CPU:
          cpu::qbase::xnor_weight_backward(ws.data<float>(), g.data<float>(), alpha.data<float>(), dw.data<float>(),
                                           channels, per);
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::qbase::xnor_weight_backward(ws.data<float>(), g.data<float>(), alpha.data<float>(), dw.data<float>(),
                                            channels, per);
          break;
#else
          cuda_missing("xnor_weight backward");
#endif
      }
      return std::vector<Tensor>{dw};
    });
  }
  return y;
}

namespace {

class XnorQuantizer : public Quantizer {
 public:
  explicit XnorQuantizer(QuantConfig config) : Quantizer(std::move(config)) {}
  Tensor forward(const Tensor& x) override { return is_weight() ? xnor_weight(x) : bnn_sign(x); }
};

}  // namespace

std::shared_ptr<Quantizer> make_xnor_quantizer(const QuantConfig& config) {
  qbase_detail::check_width(config, {1}, "xnor");
  return std::make_shared<XnorQuantizer>(config);
}

}  // namespace lowbit
