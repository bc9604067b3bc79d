// The model zoo by name: make_model("resnet20", options, gen) builds a fresh, seeded model for
// inputs of in_channels x in_height x in_width (NHWC) and num_classes outputs, with its convs and
// linears from options.layers (float by default). model_names() lists the zoo in table order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/random.h"
#include "layers/module.h"
#include "models/options.h"

namespace lowbit {

// Throws naming the known models when `name` is not one of them.
LOWBIT_API std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options,
                                              Generator& gen);
LOWBIT_API std::vector<std::string> model_names();
// One line saying what the model is (for `lowbit models`); throws for unknown names.
LOWBIT_API std::string model_description(const std::string& name);

}  // namespace lowbit
