// ResNet-20 for CIFAR as in the EWGS and DAQ code (spec §2.6, after akamaster/IR-Net),
// post-activation:
//   conv1 3x3 (C→16, stride 1, no bias, role First) → bn1 → ReLU
//   layer1..3: 3 BasicBlocks each with 16/32/64 channels; the first block of layer2 and layer3
//              has stride 2 and an option-A shortcut (x[:, ::2, ::2, :], channels zero-padded
//              by planes/4 on each side; no parameters)
//   global average pool → bn2 = BatchNorm1d(64) → linear 64 → classes (role Last)
// Init: kaiming_normal_ (fan_in, ReLU gain) on every conv and linear weight; BN γ=1, β=0; the
// linear bias keeps PyTorch's default. Names match the reference state dicts ("layer1.0.bn1.weight").
// width_mult scales 16/32/64 (each a multiple of 4 after rounding, for option A).
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_resnet20(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
