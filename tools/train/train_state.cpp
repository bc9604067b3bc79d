// Checkpoint capture and restore with fit checks.
#include "tools/train/train_state.h"

#include <map>

#include "core/error.h"

namespace lowbit {

Checkpoint capture_checkpoint(const TrainConfig& config, const Module& model, const Optimizer& optimizer,
                              const Generator& gen, int64_t epoch, const std::vector<EpochMetrics>& history,
                              const Optimizer* quant_optimizer) {
  Checkpoint c;
  c.model = config.model;
  c.epoch = epoch;
  c.config = config_to_json(config);
  for (auto& [name, t] : model.state_dict()) c.model_state.emplace_back(name, t);
  OptimizerState os = optimizer.state_dict();
  for (auto& [name, t] : os.tensors) c.optimizer_state.emplace_back(name, t);
  c.optimizer = nlohmann::json::parse(os.meta);
  if (quant_optimizer) {
    OptimizerState qs = quant_optimizer->state_dict();
    for (auto& [name, t] : qs.tensors) c.quant_optimizer_state.emplace_back(name, t);
    c.quant_optimizer = nlohmann::json::parse(qs.meta);
  }
  c.rng = {.seed = config.seed, .stream = gen.stream(), .epoch = epoch};
  c.metrics = nlohmann::json::array();
  for (const EpochMetrics& m : history) c.metrics.push_back(metrics_to_json(m));
  return c;
}

void restore_model(const Checkpoint& checkpoint, Module& model, const std::string& where) {
  LOWBIT_CHECK(checkpoint.model == checkpoint.config.value("model", checkpoint.model), where,
               ": the model name '", checkpoint.model, "' differs from its config's");
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : checkpoint.model_state) saved.emplace(name, &t);
  StateDict state;
  std::string missing;
  for (const auto& [name, t] : model.state_dict()) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    const Tensor& s = *it->second;
    LOWBIT_CHECK(s.shape() == t.shape() && s.dtype() == t.dtype(), where, ": does not fit the model: tensor '", name,
                 "' is ", shape_str(s.shape()), " ", dtype_name(s.dtype()), " in the file and ", shape_str(t.shape()),
                 " ", dtype_name(t.dtype()), " in the model (a checkpoint of another model or size?)");
    state.emplace_back(name, s);
    saved.erase(it);
  }
  LOWBIT_CHECK(missing.empty(), where, ": does not fit the model: it lacks ", missing);
  if (!saved.empty()) {
    std::string extra;
    for (const auto& [name, t] : saved) extra += (extra.empty() ? "" : ", ") + name;
    LOWBIT_FAIL(where, ": does not fit the model: unexpected tensors ", extra);
  }
  model.load_state_dict(state, true);
}

void restore_optimizer(const Checkpoint& checkpoint, Optimizer& optimizer, const std::string& where) {
  OptimizerState os;
  for (const auto& [name, t] : checkpoint.optimizer_state) os.tensors.emplace(name, t);
  os.meta = checkpoint.optimizer.dump();
  try {
    optimizer.load_state_dict(os);
  } catch (const Error& e) {
    LOWBIT_FAIL(where, ": the optimizer state does not fit: ", e.what());
  }
}

void restore_quant_optimizer(const Checkpoint& checkpoint, Optimizer* optimizer, const std::string& where) {
  if (!optimizer) {
    LOWBIT_CHECK(checkpoint.quant_optimizer.is_null() && checkpoint.quant_optimizer_state.empty(), where,
                 ": holds a quantizer optimizer state but the run has no quantizer parameters");
    return;
  }
  LOWBIT_CHECK(checkpoint.quant_optimizer.is_object(), where,
               ": holds no quantizer optimizer state (a checkpoint of a float run?)");
  OptimizerState os;
  for (const auto& [name, t] : checkpoint.quant_optimizer_state) os.tensors.emplace(name, t);
  os.meta = checkpoint.quant_optimizer.dump();
  try {
    optimizer->load_state_dict(os);
  } catch (const Error& e) {
    LOWBIT_FAIL(where, ": the quantizer optimizer state does not fit: ", e.what());
  }
}

std::vector<EpochMetrics> checkpoint_history(const Checkpoint& checkpoint, const std::string& where) {
  std::vector<EpochMetrics> history;
  if (checkpoint.metrics.is_null()) return history;
  LOWBIT_CHECK(checkpoint.metrics.is_array(), where, ": field 'metrics' must be an array, got ",
               checkpoint.metrics.type_name());
  for (const auto& m : checkpoint.metrics) history.push_back(metrics_from_json(m, where));
  return history;
}

}  // namespace lowbit
