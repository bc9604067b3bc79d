// ResNet-18 with torchvision's BasicBlock layout and the CIFAR stem (small inputs: 32x32, 28x28):
//   conv1 3x3 (C→64, stride 1, pad 1, no bias, role First) → bn1 → ReLU   (no max-pool)
//   layer1..4: 2 BasicBlocks each with 64/128/256/512 channels, stride 1/2/2/2; a block that
//              changes stride or width has torchvision's "downsample" = 1x1 conv (stride s,
//              no bias, quantized like the 3x3 convs) + BN (option B)
//   global average pool → fc 512 → classes (role Last)
// Init as torchvision: kaiming_normal_ (fan_out, ReLU gain) on convs, BN γ=1 β=0, fc PyTorch
// default. 11.17 M parameters for 3x32x32 and 10 classes. width_mult scales 64/128/256/512.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_resnet18(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
