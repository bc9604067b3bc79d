// LeNet-5 (ReLU and max-pool version):
//   conv1 5x5 (C→6, pad 2, role First) → ReLU → max-pool 2
//   conv2 5x5 (6→16) → ReLU → max-pool 2
//   flatten → fc1 (16·h·w → 120) → ReLU → fc2 (120 → 84) → ReLU → fc3 (84 → classes, role Last)
// The pad-2 first conv gives the classic 16·5·5 = 400 features on 28x28 (MNIST) inputs and
// 16·6·6 = 576 on 32x32. Convs and FCs have biases; PyTorch's default init.
// 61,706 parameters for 1x28x28 and 10 classes.
#pragma once

#include <memory>

#include "core/export.h"
#include "models/options.h"

namespace lowbit {

LOWBIT_API std::shared_ptr<Module> make_lenet5(const ModelOptions& options, Generator& gen);

}  // namespace lowbit
