// bnn_lenet: a small binary ConvNet for 28x28 images, built to be trained at W1A1 (bnn, xnor,
// ste) and deployed by `lowbit export` (tools/deploy): BN + HardTanh after every layer, and the
// max-pools AFTER the activation, so that in the deployed net they pool ±1 values (a binary
// max-pool: the AND of packed words). With c = scaled(32, width_mult):
//   conv1 3x3 (C→c, pad 1, role First, float)  → bn1 → act1 HardTanh → pool1 MP2
//   conv2 3x3 (c→2c, pad 1)                     → bn2 → act2 HardTanh → pool2 MP2
//   conv3 3x3 (2c→2c, pad 1)                    → bn3 → act3 HardTanh
//   flatten → fc4 (2c·h·w → 8c)                 → bn4 → act4 HardTanh
//   fc5 (8c → classes, role Last, float)        → bn5 (BatchNorm1d, no activation)
// No biases (a BN follows every layer). Init: xavier_uniform_ on conv and FC weights (the BNN
// code's default), BN γ = 1, β = 0. On 1x28x28 at width 1: 6.4 M multiply-adds per image and
// 0.86 M weights, all but 2.8 K of them in the binary layers (conv2, conv3, fc4).
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_bnn_lenet(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
