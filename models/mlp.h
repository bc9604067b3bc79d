// MLP: Flatten -> [Linear -> ReLU] per hidden width -> Linear to the class logits.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/factory.h"
#include "layers/module.h"

namespace lowbit {

// Input [N, ...] with in_features elements per example (images are flattened first). The
// Linear layers come from `layers` (null: float), the first with role First, the last with Last.
LOWBIT_API std::shared_ptr<Module> make_mlp(int64_t in_features, const std::vector<int64_t>& hidden,
                                            int64_t num_classes, Generator& gen,
                                            Device device = Device::cpu(), LayerFactory* layers = nullptr);

}  // namespace lowbit
