// MobileNet-V2, CIFAR-size variant (spec §4.6 block structure, SAT/AdaBits code):
//   conv1 3x3 (C→32, stride 1 instead of ImageNet's 2, role First) → bn1 → ReLU
//   layers: inverted residuals (t, c, n, s) = (1,16,1,1), (6,24,2,1*), (6,32,3,2), (6,64,4,2),
//           (6,96,3,1), (6,160,3,2), (6,320,1,1)   (*: stride 2 on ImageNet; 1 here, so a
//           32x32 input ends at 4x4 as in kuangliu/pytorch-cifar)
//   block: [expand 1x1 → BN → ReLU, left out when t = 1] → depthwise 3x3 (stride s) → BN →
//          ReLU → project 1x1 → BN, plus x when stride 1 and in == out; ReLU, not ReLU6
//   conv2 1x1 → 1280 → bn2 → ReLU → global average pool → linear → classes (role Last, no dropout)
// All convs without bias. Init (AdaBits): conv N(0, 2/(k²·out)) (PyTorch's fan_out, groups
// ignored), linear N(0, 0.01²) with bias 0, BN γ=1 β=0. width_mult scales the channels
// (rounded to multiples of 8, as torchvision), and the 1280 only when above 1.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_mobilenet_v2(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
