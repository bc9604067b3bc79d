// Model registry: one table from name to builder.
#include "models/registry.h"

#include <functional>
#include <utility>

#include "core/error.h"
#include "models/mlp.h"

namespace lowbit {

namespace {
using Builder = std::function<std::shared_ptr<Module>(const ModelOptions&, Generator&)>;

const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> table = {
      {"mlp",
       [](const ModelOptions& o, Generator& gen) {
         return make_mlp(o.in_channels * o.in_height * o.in_width, o.hidden, o.num_classes, gen, o.device);
       }},
  };
  return table;
}
}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : registry()) names.push_back(name);
  return names;
}

std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options, Generator& gen) {
  for (const auto& [n, builder] : registry())
    if (n == name) return builder(options, gen);
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  LOWBIT_FAIL("make_model: unknown model '", name, "' (known: ", known, ")");
}

}  // namespace lowbit
