// ResNet-18 with torchvision's BasicBlock layout; the stem depends on the input size:
//   inputs up to 64 px on a side (CIFAR 32x32, MNIST 28x28, Tiny-ImageNet 64x64), the CIFAR stem:
//     conv1 3x3 (C→64, stride 1, pad 1, no bias, role First) → bn1 → ReLU   (no max-pool)
//   larger inputs (ImageNet 224x224), torchvision's stem:
//     conv1 7x7 (C→64, stride 2, pad 3, no bias, role First) → bn1 → ReLU → maxpool 3x3/2 pad 1
//   layer1..4: 2 BasicBlocks each with 64/128/256/512 channels, stride 1/2/2/2; a block that
//              changes stride or width has torchvision's "downsample" = 1x1 conv (stride s,
//              no bias, quantized like the 3x3 convs) + BN (option B)
//   global average pool → fc 512 → classes (role Last)
// Init as torchvision: kaiming_normal_ (fan_out, ReLU gain) on convs, BN γ=1 β=0, fc PyTorch
// default. 11.17 M parameters for 3x32x32 and 10 classes; 11,689,512 for 3x224x224 and 1000
// classes (torchvision's resnet18). width_mult scales 64/128/256/512.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

// The largest input side that gets the CIFAR stem.
inline constexpr int64_t kResnet18CifarStemMaxSide = 64;

LOWBIT_API std::shared_ptr<Module> make_resnet18(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
