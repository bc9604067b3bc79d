// QConv2d: registration of the quantizer members and the forward through QuantizedLayer.
#include "quant/qconv2d.h"

#include "core/ops/conv.h"

namespace lowbit {

QConv2d::QConv2d(const Conv2dOptions& options, const QuantConfig& weight, const QuantConfig& input, Generator& gen,
                 Device device)
    : Conv2d(options, gen, device), QuantizedLayer(weight, input, device) {
  if (alpha_.defined()) alpha_ = register_parameter("alpha", alpha_);
  initialized_ = register_buffer("initialized", initialized_);
  if (wq_) register_module("wq", wq_);
  if (aq_) register_module("aq", aq_);
}

Tensor QConv2d::forward(const Tensor& x) {
  check_input(x);
  const Conv2dParams p = params();
  return quantized_forward(x, weight(), bias(), is_training(),
                           [&p](const Tensor& a, const Tensor& w, const Tensor& b) { return conv2d(a, w, b, p); });
}

}  // namespace lowbit
