// QLinear: registration of the quantizer members and the forward through QuantizedLayer.
#include "quant/qlinear.h"

#include "core/error.h"
#include "core/ops/linalg.h"

namespace lowbit {

QLinear::QLinear(int64_t in_features, int64_t out_features, bool bias, const QuantConfig& weight,
                 const QuantConfig& input, Generator& gen, Device device)
    : Linear(in_features, out_features, bias, gen, device), QuantizedLayer(weight, input, device) {
  if (alpha_.defined()) alpha_ = register_parameter("alpha", alpha_);
  initialized_ = register_buffer("initialized", initialized_);
  if (wq_) register_module("wq", wq_);
  if (aq_) register_module("aq", aq_);
}

Tensor QLinear::forward(const Tensor& x) {
  LOWBIT_CHECK(x.dim() == 2 && x.size(1) == in_features(), "QLinear(", in_features(), " -> ", out_features(),
               "): input must be [N, ", in_features(), "], got ", shape_str(x.shape()));
  return quantized_forward(x, weight(), bias(), is_training(),
                           [](const Tensor& a, const Tensor& w, const Tensor& b) { return linear(a, w, b); });
}

}  // namespace lowbit
