// Export: a trained quantized model -> a deploy graph (graph.h) that computes the same predictions
// with integer kernels. Binary layers (QConv2d/QLinear with bnn, xnor or ste sign quantizers on
// weights and inputs) become packed-bit ops; every other layer with quantized inputs and weights
// becomes a multi-bit layer (below).
// The model must be a flat Sequential of Conv2d/QConv2d, Linear/QLinear, BatchNorm1d/2d,
// HardTanh, ReLU, MaxPool2d, Flatten and Dropout (an identity at inference). Folding, per binary
// layer (sign input quantizer and sign weights ±a_c per output channel, a_c = XNOR-Net's α_c,
// times the layer's output scale |α| if any; pre-BN value v = a_c·s + bias_c for the integer sum s):
//   - followed (through batch norm, HardTanh with lo < 0 <= hi, max-pools, flatten) by another
//     binary layer: batch norm + sign fold into one integer threshold per channel
//     (kernels/cpu/xnor_epilogue.h fold_bn_threshold) and the conv packs the next layer's input
//     directly; a max-pool of ±1 values becomes a binary max-pool (AND of words); a ReLU makes
//     every sign +1 (always_pos); a max-pool BEFORE the batch norm pools the sums (before the
//     threshold when every channel's threshold is increasing, else as an int_max_pool2d);
//   - followed by a float layer or the end: batch norm folds into the affine epilogue
//     (fold_bn_affine) giving f32, and the ops after it run in float.
// Multi-bit layers (EWGS, DAQ, LSQ, DoReFa, PACT, SAT, STE at 1-7-bit inputs; AQE's sign, ternary
// and power-of-two levels): a quantize op (the input quantizer's eval forward as integer codes,
// act_quant.h), then multibit_conv2d/linear on the weight codes (weight_codes.h) with the affine
// epilogue scale[c]·s + bias[c], scale[c] = input step · weight step[c] · |α|; the float ops
// after it (batch norm, activations, pools) run as float ops, as in the training graph. The
// integer sums are exact, so the deployed outputs differ from the training graph's only by its
// float summation order.
// Float layers (the first and last layers of the zoo's quantized models) run as float ops with
// their weights as the training graph uses them (a weight quantizer with a float input — 8-bit
// first/last weights, or MINW-Net's at the hidden width — is applied once at export). Anything
// else is refused naming the layer, e.g. "export: layer 'conv2' quantizes its input with 'ewgs'
// at 8 bits; the multi-bit deploy path takes 1-7 bits for it".
#pragma once

#include <string>

#include "layers/module.h"
#include "tools/deploy/graph.h"

namespace lowbit::deploy {

// What the graph records besides the layers.
struct ExportInfo {
  std::string model, dataset;
  int64_t channels = 0, height = 0, width = 0, classes = 0;
  nlohmann::json source = nlohmann::json::object();
};

// Exports `model` (put in eval mode; its tensors may be on any device). Throws lowbit::Error
// for what it cannot deploy.
Graph export_model(Module& model, const ExportInfo& info);

}  // namespace lowbit::deploy
