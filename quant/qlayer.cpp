// QuantizedLayer: quantizer construction, first-batch initialization and the quantized forward
// shared by QConv2d and QLinear.
#include "quant/qlayer.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace lowbit {

namespace {

std::shared_ptr<Quantizer> build(QuantConfig config, QuantTarget target, Device device) {
  config.target = target;
  if (config.bits == kFullPrecisionBits) return nullptr;
  std::shared_ptr<Quantizer> q = make_quantizer(config);
  q->to(device);
  return q;
}

}  // namespace

QuantizedLayer::~QuantizedLayer() = default;

QuantizedLayer::QuantizedLayer(QuantConfig weight, QuantConfig input, Device device)
    : wq_(build(weight, QuantTarget::weight, device)), aq_(build(input, QuantTarget::activation, device)) {
  if (weight.option(kOutputScaleOption, 0.0) != 0.0 || input.option(kOutputScaleOption, 0.0) != 0.0)
    alpha_ = Tensor::full({}, 1.0f, DType::f32, device);
  initialized_ = Tensor::zeros({}, DType::f32, device);
}

bool QuantizedLayer::quant_initialized() const {
  if (!initialized_seen_ && initialized_.item() != 0.0f) initialized_seen_ = true;
  return initialized_seen_;
}

std::string QuantizedLayer::quant_str() const {
  std::ostringstream os;
  os << "w" << (wq_ ? wq_->bits() : kFullPrecisionBits) << " a" << (aq_ ? aq_->bits() : kFullPrecisionBits);
  if (wq_ || aq_) os << " (" << (wq_ ? wq_ : aq_)->config().method << ")";
  if (alpha_.defined()) os << " +alpha";
  return os.str();
}

void QuantizedLayer::initialize_quantizers(const Tensor& x, const Tensor& weight) {
  NoGradGuard no_grad;
  if (wq_) wq_->initialize(weight.detach());
  if (aq_) aq_->initialize(x.detach());
}

void QuantizedLayer::initialize_output_scale(const Tensor& x, const Tensor& weight, const Tensor& quantized_out,
                                             const RawOp& op) {
  NoGradGuard no_grad;
  const double num = mean(abs(op(x.detach(), weight.detach(), Tensor()))).item();
  const double den = mean(abs(quantized_out.detach())).item();
  const double a = num / den;
  // An all-zero quantized output (or input) leaves the neutral scale 1.
  alpha_.fill_(den > 0.0 && std::isfinite(a) && a > 0.0 ? static_cast<float>(a) : 1.0f);
}

Tensor QuantizedLayer::quantized_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training,
                                         const RawOp& op) {
  const bool init_now = training && !quant_initialized();
  if (init_now) initialize_quantizers(x, weight);
  const Tensor qa = aq_ ? aq_->forward(x) : x;
  const Tensor qw = wq_ ? wq_->forward(weight) : weight;
  if (!alpha_.defined()) {
    if (init_now) {
      initialized_.fill_(1.0f);
      initialized_seen_ = true;
    }
    return op(qa, qw, bias);
  }
  Tensor out = op(qa, qw, Tensor());
  if (init_now) {
    initialize_output_scale(x, weight, out, op);
    initialized_.fill_(1.0f);
    initialized_seen_ = true;
  }
  out = out * abs(alpha_);
  return bias.defined() ? out + bias : out;
}

}  // namespace lowbit
