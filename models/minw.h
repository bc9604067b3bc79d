// MINW-Net ConvNets A–D (AQE paper, spec §5.5): the BNN CIFAR ConvNet of Courbariaux et al. and
// its halvings, with BN + HardTanh after every layer:
//   A: 2×128C3 – MP2 – 2×256C3 – MP2 – 2×512C3 – MP2 – 2×1024FC – classes
//   B: A with every conv's channels halved (64/128/256)
//   C: B with the two hidden FC layers halved (512)
//   D: C with the hidden FC layers halved again (256)
// Layer constructs (§5.3): conv → BN → HardTanh, and conv → max-pool → BN → HardTanh for the
// second conv of each pair; FC → BN1d → HardTanh; the last FC → BN1d (no activation), as the
// BNN net. Convs are 3x3, stride 1, pad 1; no biases (a BN follows every layer). The first conv
// has role First, the last FC role Last (the paper quantizes both; the factory decides).
// width_mult scales the conv channels (not the FC widths): a reduced net for small inputs/CPUs.
// Init: xavier_uniform_ (Glorot, the BNN code's default) on conv and FC weights; BN γ=1 β=0.
// [The paper's parameter figures (1.23 M / 0.54 M / 0.30 M / 0.21 M) use an unstated unit; this
// layout gives 14.0 M / 6.4 M / 3.5 M / 2.3 M weights for 3x32x32, with the same ratios roughly.]
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

// variant: 'a', 'b', 'c' or 'd'.
LOWBIT_API std::shared_ptr<Module> make_minw(char variant, const ModelOptions& options, Generator& gen);

}  // namespace lowbit
