// LeNet-5 with BN + HardTanh (the BNN / MINW-Net layer construct, spec §5.3), for the methods
// whose activation quantizer is a sign or a ternary (BNN, XNOR-Net, STE at 1 bit, AQE): lenet5's
// ReLUs would hand them only non-negative inputs (all +1). Same convs and widths as lenet5:
//   conv1 5x5 (C→6, pad 2, role First) → max-pool 2 → BN → HardTanh
//   conv2 5x5 (6→16) → max-pool 2 → BN → HardTanh
//   flatten → fc1 (16·h·w → 120) → BN1d → HardTanh → fc2 (120 → 84) → BN1d → HardTanh
//   → fc3 (84 → classes, role Last, with bias)
// The layers before a BN have no bias. PyTorch's default init (as lenet5); BN γ=1 β=0.
// 61,932 parameters for 1x28x28 and 10 classes.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_lenet5_ht(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
