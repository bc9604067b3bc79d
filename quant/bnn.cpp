// BNN sign op (the 1-bit saturating STE of quant/ste) and its Quantizer.
#include "quant/bnn.h"

#include "quant/baseline_common.h"
#include "quant/ste.h"

namespace lowbit {

Tensor bnn_sign(const Tensor& x) { return ste_quantize(x, 1, QuantTarget::activation, /*saturate=*/true); }

namespace {

class BnnQuantizer : public Quantizer {
 public:
  explicit BnnQuantizer(QuantConfig config) : Quantizer(std::move(config)) {}
  Tensor forward(const Tensor& x) override { return bnn_sign(x); }
};

}  // namespace

std::shared_ptr<Quantizer> make_bnn_quantizer(const QuantConfig& config) {
  qbase_detail::check_width(config, {1}, "bnn");
  return std::make_shared<BnnQuantizer>(config);
}

}  // namespace lowbit
