// QuantLayerFactory (role -> float or quantized layer) and the quantizer-parameter helpers.
#include "quant/qfactory.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "quant/qconv2d.h"
#include "quant/qlinear.h"

namespace lowbit {

std::string QuantSpec::str() const {
  std::ostringstream os;
  os << method << " w" << w_bits << " a" << a_bits << " first/last "
     << (first_last_bits == kFullPrecisionBits ? std::string("fp") : "w" + std::to_string(first_last_bits));
  if (last_input_bits != kFullPrecisionBits) os << " last input a" << last_input_bits;
  os << options_str(options);
  return os.str();
}

QuantLayerFactory::QuantLayerFactory(QuantSpec spec) : spec_(std::move(spec)) {
  const std::vector<std::string> names = quantizer_names();
  if (std::find(names.begin(), names.end(), spec_.method) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    LOWBIT_FAIL("QuantLayerFactory: unknown quantization method '", spec_.method, "' (known: ", known, ")");
  }
  const auto valid = [](int b) { return b == kFullPrecisionBits || (b >= 1 && b <= 8); };
  LOWBIT_CHECK(valid(spec_.first_last_bits), "QuantLayerFactory(", spec_.method,
               "): first_last_bits must be 32 (float) or 1 to 8, got ", spec_.first_last_bits);
  LOWBIT_CHECK(valid(spec_.last_input_bits), "QuantLayerFactory(", spec_.method,
               "): last_input_bits must be 32 (float) or 1 to 8, got ", spec_.last_input_bits);
}

bool QuantLayerFactory::configs_for(LayerRole role, QuantConfig& weight, QuantConfig& input) const {
  weight = {spec_.method, spec_.w_bits, QuantTarget::weight, spec_.options};
  input = {spec_.method, spec_.a_bits, QuantTarget::activation, spec_.options};
  if (role == LayerRole::Hidden) return true;
  weight.bits = spec_.first_last_bits;
  input.bits = role == LayerRole::Last ? spec_.last_input_bits : kFullPrecisionBits;
  if (weight.bits == kFullPrecisionBits && input.bits == kFullPrecisionBits) return false;
  weight.options.erase(kOutputScaleOption);
  input.options.erase(kOutputScaleOption);
  return true;
}

std::shared_ptr<Conv2d> QuantLayerFactory::make_conv(const Conv2dOptions& options, LayerRole role, Generator& gen,
                                                     Device device) {
  QuantConfig w, a;
  if (!configs_for(role, w, a)) return LayerFactory::make_conv(options, role, gen, device);
  return std::make_shared<QConv2d>(options, w, a, gen, device);
}

std::shared_ptr<Linear> QuantLayerFactory::make_linear(int64_t in_features, int64_t out_features, bool bias,
                                                       LayerRole role, Generator& gen, Device device) {
  QuantConfig w, a;
  if (!configs_for(role, w, a)) return LayerFactory::make_linear(in_features, out_features, bias, role, gen, device);
  return std::make_shared<QLinear>(in_features, out_features, bias, w, a, gen, device);
}

bool is_quantizer_parameter(const std::string&, const Tensor& t, const Module& owner) {
  if (dynamic_cast<const Quantizer*>(&owner)) return true;
  const auto* layer = dynamic_cast<const QuantizedLayer*>(&owner);
  return layer && layer->has_output_scale() && layer->output_scale().unsafe_impl() == t.unsafe_impl();
}

std::vector<NamedTensor> quantizer_parameters(const Module& model) {
  return model.named_parameters_where(is_quantizer_parameter);
}

std::vector<NamedTensor> non_quantizer_parameters(const Module& model) {
  return model.named_parameters_where(
      [](const std::string& name, const Tensor& t, const Module& owner) { return !is_quantizer_parameter(name, t, owner); });
}

std::vector<std::pair<std::string, Quantizer*>> quantizers(Module& model) {
  std::vector<std::pair<std::string, Quantizer*>> out;
  for (auto& [name, m] : model.named_modules())
    if (auto* q = dynamic_cast<Quantizer*>(m)) out.emplace_back(name, q);
  return out;
}

std::vector<std::pair<std::string, QuantizedLayer*>> quantized_layers(Module& model) {
  std::vector<std::pair<std::string, QuantizedLayer*>> out;
  for (auto& [name, m] : model.named_modules())
    if (auto* l = dynamic_cast<QuantizedLayer*>(m)) out.emplace_back(name, l);
  return out;
}

}  // namespace lowbit
