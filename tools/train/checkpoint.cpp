// Checkpoint save/load: prefixes tensor names, writes the "lowbit" metadata document, and on load
// checks the format, the version and every required field before handing anything back.
#include "tools/train/checkpoint.h"

#include "core/error.h"

namespace lowbit {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "lowbit-checkpoint";
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimPrefix = "optim.";
constexpr const char* kQuantOptimPrefix = "qoptim.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Reads the required fields of the metadata document, with errors naming the checkpoint file.
struct Reader {
  std::string where;  // "checkpoint PATH"

  const json& field(const json& doc, const std::string& key, const std::string& full_name) const {
    auto it = doc.find(key);
    LOWBIT_CHECK(it != doc.end(), where, ": missing field '", full_name, "'");
    return *it;
  }
  uint64_t unsigned_field(const json& doc, const std::string& key, const std::string& full_name) const {
    const json& v = field(doc, key, full_name);
    LOWBIT_CHECK(v.is_number_unsigned(), where, ": field '", full_name, "' must be a non-negative integer, got ",
                 v.dump());
    return v.get<uint64_t>();
  }
  const json& object_field(const json& doc, const std::string& key, const std::string& full_name) const {
    const json& v = field(doc, key, full_name);
    LOWBIT_CHECK(v.is_object(), where, ": field '", full_name, "' must be a JSON object, got ", v.type_name());
    return v;
  }
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  const std::string where = "checkpoint " + path;
  LOWBIT_CHECK(!c.model.empty(), where, ": the model name is empty");
  LOWBIT_CHECK(c.epoch >= 0, where, ": epoch ", c.epoch, " is negative");
  LOWBIT_CHECK(c.rng.epoch >= 0, where, ": rng epoch ", c.rng.epoch, " is negative");
  LOWBIT_CHECK(c.config.is_object(), where, ": config must be a JSON object, got ", c.config.type_name());
  LOWBIT_CHECK(c.optimizer.is_object(), where, ": optimizer must be a JSON object, got ", c.optimizer.type_name());

  json doc = {{"format", kFormat},
              {"version", kCheckpointVersion},
              {"model", c.model},
              {"epoch", c.epoch},
              {"config", c.config},
              {"optimizer", c.optimizer},
              {"rng", {{"seed", c.rng.seed}, {"stream", c.rng.stream}, {"epoch", c.rng.epoch}}},
              {"metrics", c.metrics}};
  if (!c.quant_optimizer.is_null()) {
    LOWBIT_CHECK(c.quant_optimizer.is_object(), where, ": quant_optimizer must be a JSON object, got ",
                 c.quant_optimizer.type_name());
    doc["quant_optimizer"] = c.quant_optimizer;
  }
  std::string text;
  try {
    text = doc.dump();
  } catch (const json::exception& e) {
    LOWBIT_FAIL(where, ": metadata cannot be written as JSON: ", e.what());
  }

  io::NamedTensors tensors;
  tensors.reserve(c.model_state.size() + c.optimizer_state.size());
  for (const auto& [name, t] : c.model_state) tensors.emplace_back(kModelPrefix + name, t);
  for (const auto& [name, t] : c.optimizer_state) tensors.emplace_back(kOptimPrefix + name, t);
  for (const auto& [name, t] : c.quant_optimizer_state) tensors.emplace_back(kQuantOptimPrefix + name, t);
  io::save_safetensors(path, tensors, {{"lowbit", text}});
}

Checkpoint load_checkpoint(const std::string& path) {
  const Reader r{"checkpoint " + path};
  io::SafetensorsFile file = io::load_safetensors(path);

  auto meta = file.metadata.find("lowbit");
  LOWBIT_CHECK(meta != file.metadata.end(), r.where,
               ": not a lowbit checkpoint (the safetensors metadata has no 'lowbit' entry)");
  json doc;
  try {
    doc = json::parse(meta->second);
  } catch (const json::exception& e) {
    LOWBIT_FAIL(r.where, ": metadata 'lowbit' is not valid JSON: ", e.what());
  }
  LOWBIT_CHECK(doc.is_object(), r.where, ": metadata 'lowbit' must be a JSON object, got ", doc.type_name());

  const json& format = r.field(doc, "format", "format");
  LOWBIT_CHECK(format == kFormat, r.where, ": format is ", format.dump(), ", expected \"", kFormat, "\"");
  uint64_t version = r.unsigned_field(doc, "version", "version");
  LOWBIT_CHECK(version >= 1, r.where, ": format version ", version, " is invalid (versions start at 1)");
  LOWBIT_CHECK(version <= static_cast<uint64_t>(kCheckpointVersion), r.where, ": format version ", version,
               " is newer than this lowbit (", kCheckpointVersion, ")");

  Checkpoint c;
  const json& model = r.field(doc, "model", "model");
  LOWBIT_CHECK(model.is_string() && !model.get<std::string>().empty(), r.where,
               ": field 'model' must be a non-empty string, got ", model.dump());
  c.model = model.get<std::string>();
  uint64_t epoch = r.unsigned_field(doc, "epoch", "epoch");
  LOWBIT_CHECK(epoch <= static_cast<uint64_t>(INT64_MAX), r.where, ": field 'epoch' is out of range");
  c.epoch = static_cast<int64_t>(epoch);
  c.config = r.object_field(doc, "config", "config");
  c.optimizer = r.object_field(doc, "optimizer", "optimizer");
  const json& rng = r.object_field(doc, "rng", "rng");
  c.rng.seed = r.unsigned_field(rng, "seed", "rng.seed");
  c.rng.stream = r.unsigned_field(rng, "stream", "rng.stream");
  uint64_t rng_epoch = r.unsigned_field(rng, "epoch", "rng.epoch");
  LOWBIT_CHECK(rng_epoch <= static_cast<uint64_t>(INT64_MAX), r.where, ": field 'rng.epoch' is out of range");
  c.rng.epoch = static_cast<int64_t>(rng_epoch);
  c.metrics = r.field(doc, "metrics", "metrics");
  if (doc.contains("quant_optimizer")) c.quant_optimizer = r.object_field(doc, "quant_optimizer", "quant_optimizer");

  const std::string model_prefix = kModelPrefix, optim_prefix = kOptimPrefix, qoptim_prefix = kQuantOptimPrefix;
  for (auto& [name, t] : file.tensors) {
    if (starts_with(name, model_prefix)) c.model_state.emplace_back(name.substr(model_prefix.size()), t);
    else if (starts_with(name, qoptim_prefix)) c.quant_optimizer_state.emplace_back(name.substr(qoptim_prefix.size()), t);
    else if (starts_with(name, optim_prefix)) c.optimizer_state.emplace_back(name.substr(optim_prefix.size()), t);
    else LOWBIT_FAIL(r.where, ": tensor '", name, "' has neither the 'model.' nor the 'optim.' prefix");
  }
  return c;
}

}  // namespace lowbit
