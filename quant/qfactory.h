// QuantLayerFactory: the LayerFactory of a quantization method. Models take it through
// ModelOptions::layers and ask it for every conv and linear with a role:
//   - Hidden layers: QConv2d / QLinear with the method's weight quantizer at w_bits and input
//     quantizer at a_bits (32 = that tensor stays float), with spec.options passed to both (so
//     {"output_scale", 1} gives every hidden layer EWGS's / DAQ's learned output scale);
//   - First and Last layers: plain float Conv2d / Linear when first_last_bits = 32 (the papers'
//     default) and, for the last one, last_input_bits = 32; otherwise QConv2d / QLinear with
//     WEIGHTS at first_last_bits (1..8; 8: LSQ's setting; the hidden width: MINW-Net, whose paper
//     quantizes every weight; 32: float) and no output scale. The first layer's input always stays
//     float: it is the signed, normalized image. The last layer's input stays float unless
//     last_input_bits = 1..8 sets it (MINW-Net, spec §5.3 Algorithm 1: every layer's input but
//     the image is quantized), then with the hidden inputs' method and options. Only for models
//     whose last input lies in the range the method's activation quantizer covers: most clip at 0
//     (resnet20's BatchNorm1d head feeds its last layer a signed input); AQE's cover MINW-Net's
//     HardTanh outputs.
// Helpers for training: the quantizers' own parameters (for their optimizer group, spec §2.5:
// Adam lr 1e-5, no weight decay) and the quantizers and quantized layers by name (for logging).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "layers/factory.h"
#include "layers/module.h"
#include "quant/qlayer.h"
#include "quant/quantizer.h"

namespace lowbit {

struct LOWBIT_API QuantSpec {
  std::string method;                     // registry name (make_quantizer)
  int w_bits = kFullPrecisionBits;        // hidden layers' weights
  int a_bits = kFullPrecisionBits;        // hidden layers' input activations
  std::map<std::string, double> options;  // method options (and kOutputScaleOption)
  int first_last_bits = kFullPrecisionBits;  // 32 = first/last layers float; 1..8 = weights at that width
  int last_input_bits = kFullPrecisionBits;  // 32 = last layer's input float; 1..8 = quantized at that width

  std::string str() const;  // "dorefa w2 a2 first/last fp {…}", "… last input a2" when quantized
};

class LOWBIT_API QuantLayerFactory : public LayerFactory {
 public:
  // Refuses an unknown method (listing the known ones) and first_last_bits or last_input_bits
  // other than 32 or 1..8.
  // Widths are checked by the method's maker when the first layer is built.
  explicit QuantLayerFactory(QuantSpec spec);
  const QuantSpec& spec() const { return spec_; }

  std::shared_ptr<Conv2d> make_conv(const Conv2dOptions& options, LayerRole role, Generator& gen,
                                    Device device) override;
  std::shared_ptr<Linear> make_linear(int64_t in_features, int64_t out_features, bool bias, LayerRole role,
                                      Generator& gen, Device device) override;

 private:
  // The weight / input configs for a role; false when the role gets a plain float layer.
  bool configs_for(LayerRole role, QuantConfig& weight, QuantConfig& input) const;
  QuantSpec spec_;
};

// ParamPredicate for Module::named_parameters_where: true for the parameters owned by a Quantizer
// (interval bounds, step sizes, clips) and for quantized layers' output scales α.
LOWBIT_API bool is_quantizer_parameter(const std::string& name, const Tensor& t, const Module& owner);
// The parameters selected by is_quantizer_parameter, with dotted names ("layer1.0.conv1.wq.l").
LOWBIT_API std::vector<NamedTensor> quantizer_parameters(const Module& model);
// Every other parameter (the model weights, biases, batch-norm affine parameters).
LOWBIT_API std::vector<NamedTensor> non_quantizer_parameters(const Module& model);

// Every quantizer in the tree with its dotted module name ("layer1.0.conv1.wq"), walk order.
LOWBIT_API std::vector<std::pair<std::string, Quantizer*>> quantizers(Module& model);
// Every quantized layer (QConv2d / QLinear) with its dotted name, walk order.
LOWBIT_API std::vector<std::pair<std::string, QuantizedLayer*>> quantized_layers(Module& model);

}  // namespace lowbit
