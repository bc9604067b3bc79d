// The model zoo by name: make_model("mlp", options, gen) builds a fresh, seeded model for inputs
// of in_channels x in_height x in_width (NHWC) and num_classes outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/module.h"

namespace lowbit {

struct ModelOptions {
  int64_t in_channels = 1, in_height = 28, in_width = 28;
  int64_t num_classes = 10;
  std::vector<int64_t> hidden = {256};  // hidden widths (mlp)
  Device device = Device::cpu();
};

// Throws naming the known models when `name` is not one of them.
LOWBIT_API std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options,
                                              Generator& gen);
LOWBIT_API std::vector<std::string> model_names();

}  // namespace lowbit
