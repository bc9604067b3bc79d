// Quantized-run helpers of the trainer: spec, init-from, weight clip, δ and α schedules, logging.
#include "tools/train/quant_setup.h"

#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "core/ops/loss.h"
#include "quant/aqe.h"
#include "quant/hessian_delta.h"
#include "tools/train/checkpoint.h"

namespace lowbit {

QuantSpec quant_spec(const TrainConfig& c) {
  QuantSpec s;
  s.method = c.quant;
  s.w_bits = static_cast<int>(c.w_bits);
  s.a_bits = static_cast<int>(c.a_bits);
  s.first_last_bits = static_cast<int>(effective_first_last_bits(c));
  s.last_input_bits = static_cast<int>(effective_last_input_bits(c));
  s.options = parse_quant_options(c.quant_options);
  return s;
}

bool uses_weight_clip(const TrainConfig& c) {
  if (c.weight_clip == "on") return true;
  if (c.weight_clip == "off" || !is_quantized(c)) return false;
  return c.quant == "bnn" || c.quant == "xnor" || c.quant == "aqe";
}

std::vector<Tensor> clipped_weights(Module& model) {
  std::vector<Tensor> weights;
  for (auto& [name, m] : model.named_modules()) {
    auto* layer = dynamic_cast<QuantizedLayer*>(m);
    if (!layer || !layer->weight_quantizer()) continue;
    for (auto& [pname, p] : m->named_parameters())
      if (pname == "weight") weights.push_back(p);
  }
  return weights;
}

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Names of the model's state that a float checkpoint cannot hold.
bool quant_only_key(const std::string& key, Module& model) {
  for (auto& [name, q] : quantizers(model))
    if (key.rfind(name + ".", 0) == 0) return true;
  for (auto& [name, l] : quantized_layers(model)) {
    const std::string prefix = name.empty() ? "" : name + ".";
    if (key == prefix + "alpha" || key == prefix + "initialized") return true;
  }
  return false;
}

}  // namespace

void init_from_checkpoint(Module& model, const std::string& model_name, const std::string& path) {
  const std::string where = "init-from " + path;
  const Checkpoint ckpt = load_checkpoint(path);
  LOWBIT_CHECK(ckpt.model == model_name, where, ": holds model '", ckpt.model, "', not '", model_name, "'");
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : ckpt.model_state) saved.emplace(name, &t);
  StateDict state;
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, t] : model.state_dict()) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      if (!quant_only_key(name, model)) missing.push_back(name);
      continue;
    }
    const Tensor& s = *it->second;
    if (s.shape() != t.shape() || s.dtype() != t.dtype())
      mismatched.push_back(name + " (" + shape_str(s.shape()) + " in the file, " + shape_str(t.shape()) +
                           " in the model)");
    else state.emplace_back(name, s);
    saved.erase(it);
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, t] : saved) unexpected.push_back(name);
  LOWBIT_CHECK(missing.empty() && mismatched.empty() && unexpected.empty(), where,
               ": does not fit the quantized model:", missing.empty() ? "" : " it lacks " + joined(missing) + ";",
               mismatched.empty() ? "" : " shapes differ for " + joined(mismatched) + ";",
               unexpected.empty() ? "" : " the model has no " + joined(unexpected) + ";",
               " (quantizer parameters and output scales may be missing, nothing else)");
  model.load_state_dict(state, false);
}

double aqe_alpha_for_epoch(const TrainConfig& c, int64_t epoch) {
  if (c.epochs <= 1) return c.aqe_alpha_start;
  const double t = static_cast<double>(epoch - 1) / static_cast<double>(c.epochs - 1);
  return c.aqe_alpha_start + (c.aqe_alpha_end - c.aqe_alpha_start) * t;
}

void set_aqe_alpha(Module& model, double alpha) {
  for (auto& [name, q] : quantizers(model))
    if (auto* a = dynamic_cast<AqeQuantizer*>(q)) a->set_alpha(static_cast<float>(alpha));
}

bool ewgs_delta_due(const TrainConfig& c, int64_t done) {
  return c.quant == "ewgs" && c.ewgs_delta == "hessian" && done > 0 && done % c.ewgs_delta_every == 0;
}

std::map<std::string, double> update_ewgs_deltas_from_loader(Module& model, data::BatchSource& loader,
                                                             const TrainConfig& c, int64_t done) {
  loader.start_epoch(done);  // the coming epoch's order; train_epoch restarts it
  std::vector<std::function<Tensor()>> batches;
  data::Batch batch;
  for (int64_t b = 0; b < c.ewgs_delta_batches && loader.next(batch); ++b) {
    Tensor images = batch.images, labels = batch.labels;
    batches.push_back([&model, images, labels] { return cross_entropy(model(images), labels); });
  }
  LOWBIT_CHECK(!batches.empty(), "train: ewgs-delta hessian: the training loader yielded no batch");
  DeltaEstimateOptions o;
  o.seed = c.seed + static_cast<uint64_t>(done);
  return update_ewgs_deltas(model, batches, o);
}

nlohmann::json quantizer_values(Module& model) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [name, m] : model.named_modules()) {
    nlohmann::json entry = nlohmann::json::object();
    if (dynamic_cast<Quantizer*>(m)) {
      for (auto& [key, t] : m->named_parameters())
        if (t.numel() == 1) entry[key] = t.item();
      for (auto& [key, t] : m->named_buffers())
        if (t.numel() == 1) entry[key] = t.item();
    } else if (auto* l = dynamic_cast<QuantizedLayer*>(m); l && l->has_output_scale()) {
      entry["alpha"] = l->output_scale().item();
    }
    if (!entry.empty()) j[name] = entry;
  }
  return j;
}

std::string quantizer_summary(const nlohmann::json& values) {
  std::vector<std::string> order;
  std::map<std::string, std::pair<double, int>> sums;
  int quantizer_count = 0;
  for (const auto& [name, entry] : values.items()) {
    ++quantizer_count;
    for (const auto& [key, v] : entry.items()) {
      if (!v.is_number()) continue;
      if (!sums.count(key)) order.push_back(key);
      sums[key].first += v.get<double>();
      sums[key].second += 1;
    }
  }
  std::ostringstream o;
  o << "quantizers " << quantizer_count << std::setprecision(4);
  for (size_t i = 0; i < order.size(); ++i)
    o << (i == 0 ? ": " : ", ") << order[i] << " mean " << sums[order[i]].first / sums[order[i]].second;
  return o.str();
}

}  // namespace lowbit
