// DoReFa weight and activation ops (CPU and CUDA dispatch, backward) and their Quantizer.
#include "quant/dorefa.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/quant_baseline.h"
#include "quant/baseline_common.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/quant_baseline.h"
#endif

namespace lowbit {

namespace {

// k = 1: y = E·sign(w) with E detached; the identity STE passes g through unchanged.
Tensor dorefa_weight_1bit(const Tensor& w_in) {
  Tensor w = w_in.contiguous();
  Tensor y = Tensor::empty(w.shape(), DType::f32, w.device());
  switch (w.device().type) {
    case DeviceType::CPU: cpu::qbase::dorefa_w1_forward(w.data<float>(), y.data<float>(), w.numel()); break;
    case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
      Tensor scratch = Tensor::empty({2}, DType::f32, w.device());  // one double: Σ|w|
      cuda::qbase::dorefa_w1_forward(w.data<float>(), y.data<float>(), w.numel(),
                                     reinterpret_cast<double*>(scratch.data<float>()));
      break;
#else
      cuda_missing("dorefa_weight");
#endif
    }
  }
  if (needs_grad({&w_in})) record(y, "dorefa_weight", {w_in}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return y;
}

Tensor dorefa_weight_kbit(const Tensor& w_in, int bits) {
  Tensor w = w_in.contiguous();
  Tensor y = Tensor::empty(w.shape(), DType::f32, w.device());
  Tensor stats = Tensor::empty({2}, DType::f32, w.device());  // M = max|tanh w|, tie count
  switch (w.device().type) {
    case DeviceType::CPU:
      cpu::qbase::dorefa_wk_forward(w.data<float>(), y.data<float>(), w.numel(), bits, stats.data<float>());
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::qbase::dorefa_wk_forward(w.data<float>(), y.data<float>(), w.numel(), bits, stats.data<float>());
      break;
#else
      cuda_missing("dorefa_weight");
#endif
  }
  if (needs_grad({&w_in})) {
    Tensor ws = w.detach();
    record(y, "dorefa_weight", {w_in}, [ws, stats](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dw = Tensor::empty(ws.shape(), DType::f32, ws.device());
      switch (ws.device().type) {
        case DeviceType::CPU:
          cpu::qbase::dorefa_wk_backward(ws.data<float>(), g.data<float>(), dw.data<float>(), ws.numel(),
                                         stats.data<float>());
          break;
        case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
          // the Σ g·tanh w accumulator and the tie list, in doubles
          Tensor scratch = Tensor::empty({2 * cuda::kMaxPathScratchWords}, DType::f32, ws.device());
          cuda::qbase::dorefa_wk_backward(ws.data<float>(), g.data<float>(), dw.data<float>(), ws.numel(),
                                          stats.data<float>(), reinterpret_cast<double*>(scratch.data<float>()));
          break;
#else
          cuda_missing("dorefa_weight backward");
#endif
        }
      }
      return std::vector<Tensor>{dw};
    });
  }
  return y;
}

class DorefaQuantizer : public Quantizer {
 public:
  explicit DorefaQuantizer(QuantConfig config) : Quantizer(std::move(config)) {}
  Tensor forward(const Tensor& x) override {
    return is_weight() ? dorefa_weight(x, bits()) : dorefa_activation(x, bits());
  }
};

}  // namespace

Tensor dorefa_weight(const Tensor& w, int bits) {
  qbase_detail::check_f32_input(w, "dorefa_weight", "w");
  qbase_detail::check_bits(bits, 1, 8, "dorefa_weight");
  return bits == 1 ? dorefa_weight_1bit(w) : dorefa_weight_kbit(w, bits);
}

Tensor dorefa_activation(const Tensor& x_in, int bits) {
  qbase_detail::check_f32_input(x_in, "dorefa_activation", "x");
  qbase_detail::check_bits(bits, 1, 8, "dorefa_activation");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::qbase::dorefa_act_forward(x.data<float>(), y.data<float>(), x.numel(), bits); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::qbase::dorefa_act_forward(x.data<float>(), y.data<float>(), x.numel(), bits);
      break;
#else
      cuda_missing("dorefa_activation");
#endif
  }
  if (needs_grad({&x_in})) {
    Tensor xs = x.detach();
    record(y, "dorefa_activation", {x_in}, [xs](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::qbase::dorefa_act_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel());
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::qbase::dorefa_act_backward(xs.data<float>(), g.data<float>(), dx.data<float>(), xs.numel());
          break;
#else
          cuda_missing("dorefa_activation backward");
#endif
      }
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

std::shared_ptr<Quantizer> make_dorefa_quantizer(const QuantConfig& config) {
  qbase_detail::check_width(config, qbase_detail::widths(1, 8), "dorefa");
  return std::make_shared<DorefaQuantizer>(config);
}

}  // namespace lowbit
