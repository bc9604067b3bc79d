// VGG-Small, the CIFAR VGG of LQ-Nets / DoReFa-style low-bit papers (layout of the IR-Net code):
//   conv0 (C→128) → bn0 → ReLU                      [role First]
//   conv1 (128→128) → max-pool 2 → bn1 → ReLU
//   conv2 (128→256) → bn2 → ReLU
//   conv3 (256→256) → max-pool 2 → bn3 → ReLU
//   conv4 (256→512) → bn4 → ReLU
//   conv5 (512→512) → max-pool 2 → bn5 → ReLU
//   flatten → fc (512·h·w → classes, bias)          [role Last]
// All convs 3x3, stride 1, pad 1, no bias. h·w = 4·4 for 32x32 inputs, 3·3 for 28x28.
// Init (IR-Net): conv N(0, 2/(k²·out)), fc N(0, 0.01²) with bias 0, BN γ=1 β=0.
// 4.66 M parameters for 3x32x32 and 10 classes. width_mult scales 128/256/512.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_vgg_small(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
