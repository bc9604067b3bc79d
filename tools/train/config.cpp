// TrainConfig <-> JSON through one table of fields (key, member), plus the settings checks.
#include "tools/train/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/error.h"

namespace lowbit {
namespace {

using nlohmann::json;

// Reads one JSON value into a member of type T, or throws naming `where` and the key.
void read_value(const json& v, int64_t& out, const std::string& what) {
  LOWBIT_CHECK(v.is_number_integer(), what, " must be an integer, got ", v.dump());
  if (v.is_number_unsigned()) {
    LOWBIT_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), what, " is out of range: ", v.dump());
  }
  out = v.get<int64_t>();
}
void read_value(const json& v, uint64_t& out, const std::string& what) {
  LOWBIT_CHECK(v.is_number_unsigned(), what, " must be a non-negative integer, got ", v.dump());
  out = v.get<uint64_t>();
}
void read_value(const json& v, double& out, const std::string& what) {
  LOWBIT_CHECK(v.is_number(), what, " must be a number, got ", v.dump());
  out = v.get<double>();
}
void read_value(const json& v, bool& out, const std::string& what) {
  LOWBIT_CHECK(v.is_boolean(), what, " must be true or false, got ", v.dump());
  out = v.get<bool>();
}
void read_value(const json& v, std::string& out, const std::string& what) {
  LOWBIT_CHECK(v.is_string(), what, " must be a string, got ", v.dump());
  out = v.get<std::string>();
}
void read_value(const json& v, std::vector<int64_t>& out, const std::string& what) {
  LOWBIT_CHECK(v.is_array(), what, " must be an array of integers, got ", v.dump());
  std::vector<int64_t> values;
  for (const json& e : v) {
    LOWBIT_CHECK(e.is_number_integer(), what, " must be an array of integers, got ", v.dump());
    values.push_back(e.get<int64_t>());
  }
  out = std::move(values);
}

struct Field {
  std::string key;
  std::function<json(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const json&, const std::string& what)> set;
};

template <typename T>
Field field(const char* key, T TrainConfig::*member) {
  return {key, [member](const TrainConfig& c) { return json(c.*member); },
          [member](TrainConfig& c, const json& v, const std::string& what) { read_value(v, c.*member, what); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      field("model", &TrainConfig::model),
      field("dataset", &TrainConfig::dataset),
      field("data-dir", &TrainConfig::data_dir),
      field("hidden", &TrainConfig::hidden),
      field("width-mult", &TrainConfig::width_mult),
      field("limit-train", &TrainConfig::limit_train),
      field("limit-test", &TrainConfig::limit_test),
      field("data-threads", &TrainConfig::data_threads),
      field("bad-images", &TrainConfig::bad_images),
      field("epochs", &TrainConfig::epochs),
      field("batch-size", &TrainConfig::batch_size),
      field("eval-batch-size", &TrainConfig::eval_batch_size),
      field("optimizer", &TrainConfig::optimizer),
      field("lr", &TrainConfig::lr),
      field("momentum", &TrainConfig::momentum),
      field("nesterov", &TrainConfig::nesterov),
      field("weight-decay", &TrainConfig::weight_decay),
      field("no-decay-1d", &TrainConfig::no_decay_1d),
      field("schedule", &TrainConfig::schedule),
      field("milestones", &TrainConfig::milestones),
      field("gamma", &TrainConfig::gamma),
      field("warmup-epochs", &TrainConfig::warmup_epochs),
      field("grad-clip", &TrainConfig::grad_clip),
      field("device", &TrainConfig::device),
      field("seed", &TrainConfig::seed),
      field("deterministic", &TrainConfig::deterministic),
      field("log-every", &TrainConfig::log_every),
      field("out", &TrainConfig::out),
      field("sync-bn", &TrainConfig::sync_bn),
      field("recipe", &TrainConfig::recipe),
      field("quant", &TrainConfig::quant),
      field("w-bits", &TrainConfig::w_bits),
      field("a-bits", &TrainConfig::a_bits),
      field("first-last-bits", &TrainConfig::first_last_bits),
      field("last-input-bits", &TrainConfig::last_input_bits),
      field("quant-options", &TrainConfig::quant_options),
      field("init-from", &TrainConfig::init_from),
      field("quant-optimizer", &TrainConfig::quant_optimizer),
      field("quant-lr", &TrainConfig::quant_lr),
      field("weight-clip", &TrainConfig::weight_clip),
      field("ewgs-delta", &TrainConfig::ewgs_delta),
      field("ewgs-delta-every", &TrainConfig::ewgs_delta_every),
      field("ewgs-delta-batches", &TrainConfig::ewgs_delta_batches),
      field("aqe-alpha-start", &TrainConfig::aqe_alpha_start),
      field("aqe-alpha-end", &TrainConfig::aqe_alpha_end),
  };
  return table;
}

std::string normalize_key(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

const Field* find_field(const std::string& key) {
  const std::string k = normalize_key(key);
  for (const Field& f : fields())
    if (f.key == k) return &f;
  return nullptr;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool one_of(const std::string& v, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (v == n) return true;
  return false;
}

void check_finite_at_least(double v, double lo, const char* key) {
  LOWBIT_CHECK(std::isfinite(v) && v >= lo, "train: ", key, " must be a finite number >= ", lo, ", got ", v);
}

bool valid_bits(int64_t b) { return b == 32 || (b >= 1 && b <= 8); }

void check_quant_config(const TrainConfig& c) {
  LOWBIT_CHECK(valid_bits(c.w_bits), "train: w-bits must be 1 to 8, or 32 (float), got ", c.w_bits);
  LOWBIT_CHECK(valid_bits(c.a_bits), "train: a-bits must be 1 to 8, or 32 (float), got ", c.a_bits);
  LOWBIT_CHECK(c.first_last_bits == 0 || valid_bits(c.first_last_bits),
               "train: first-last-bits must be 1 to 8, 32 (float) or 0 (as w-bits), got ", c.first_last_bits);
  LOWBIT_CHECK(c.last_input_bits == 0 || valid_bits(c.last_input_bits),
               "train: last-input-bits must be 1 to 8, 32 (float) or 0 (as a-bits), got ", c.last_input_bits);
  const int64_t first_last = effective_first_last_bits(c);
  const int64_t last_input = effective_last_input_bits(c);
  LOWBIT_CHECK(!c.quant.empty(), "train: quant must be a method or none");
  LOWBIT_CHECK(c.quant != "none" || (c.w_bits == 32 && c.a_bits == 32 && first_last == 32 && last_input == 32 &&
                                     c.quant_options.empty()),
               "train: w-bits, a-bits, first-last-bits, last-input-bits and quant-options need --quant METHOD "
               "(quant is none)");
  LOWBIT_CHECK(c.quant == "none" || c.w_bits != 32 || c.a_bits != 32 || first_last != 32 || last_input != 32,
               "train: quant ", c.quant,
               " with w-bits, a-bits, first-last-bits and last-input-bits all 32 quantizes nothing");
  LOWBIT_CHECK(one_of(c.quant_optimizer, {"adam", "sgd"}), "train: quant-optimizer must be adam or sgd, got '",
               c.quant_optimizer, "'");
  check_finite_at_least(c.quant_lr, 0, "quant-lr");
  LOWBIT_CHECK(one_of(c.weight_clip, {"auto", "on", "off"}), "train: weight-clip must be auto, on or off, got '",
               c.weight_clip, "'");
  LOWBIT_CHECK(one_of(c.ewgs_delta, {"fixed", "hessian"}), "train: ewgs-delta must be fixed or hessian, got '",
               c.ewgs_delta, "'");
  LOWBIT_CHECK(c.ewgs_delta == "fixed" || c.quant == "ewgs", "train: ewgs-delta hessian needs --quant ewgs, got '",
               c.quant, "'");
  LOWBIT_CHECK(c.ewgs_delta_every >= 1, "train: ewgs-delta-every must be >= 1, got ", c.ewgs_delta_every);
  LOWBIT_CHECK(c.ewgs_delta_batches >= 1, "train: ewgs-delta-batches must be >= 1, got ", c.ewgs_delta_batches);
  for (double a : {c.aqe_alpha_start, c.aqe_alpha_end})
    LOWBIT_CHECK(std::isfinite(a) && a >= 0 && a <= 1, "train: aqe-alpha-start and aqe-alpha-end must be in [0, 1], got ",
                 a);
  parse_quant_options(c.quant_options);  // throws naming a bad item
}

}  // namespace

int64_t effective_first_last_bits(const TrainConfig& c) {
  return c.first_last_bits == 0 ? c.w_bits : c.first_last_bits;
}

int64_t effective_last_input_bits(const TrainConfig& c) {
  return c.last_input_bits == 0 ? c.a_bits : c.last_input_bits;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  return keys;
}

bool is_config_key(const std::string& key) { return find_field(key) != nullptr; }

json config_to_json(const TrainConfig& c) {
  json j = json::object();
  for (const Field& f : fields()) j[f.key] = f.get(c);
  return j;
}

TrainConfig config_from_json(const json& j, const std::string& where, TrainConfig base) {
  LOWBIT_CHECK(j.is_object(), where, ": settings must be a JSON object, got ", j.type_name());
  for (const auto& [key, value] : j.items()) {
    const Field* f = find_field(key);
    LOWBIT_CHECK(f != nullptr, where, ": unknown key '", key, "' (known: ", joined(config_keys()), ")");
    f->set(base, value, where + ": '" + key + "'");
  }
  return base;
}

json read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LOWBIT_CHECK(in.good(), "config ", path, ": cannot open the file");
  std::stringstream text;
  text << in.rdbuf();
  LOWBIT_CHECK(!in.bad(), "config ", path, ": cannot read the file");
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    LOWBIT_FAIL("config ", path, ": not valid JSON: ", e.what());
  }
  LOWBIT_CHECK(j.is_object(), "config ", path, ": must hold a JSON object, got ", j.type_name());
  return j;
}

TrainConfig merge_config(const TrainConfig& base, const TrainConfig& flags,
                         const std::vector<std::string>& given_keys) {
  const json all = config_to_json(flags);
  json given = json::object();
  for (const auto& key : given_keys) {
    const std::string k = normalize_key(key);
    LOWBIT_CHECK(all.contains(k), "merge_config: unknown key '", key, "'");
    given[k] = all[k];
  }
  TrainConfig merged = config_from_json(given, "command line", base);
  merged.resume = base.resume;
  return merged;
}

void check_config(const TrainConfig& c) {
  LOWBIT_CHECK(c.epochs >= 1, "train: epochs must be >= 1, got ", c.epochs);
  LOWBIT_CHECK(c.batch_size >= 1, "train: batch-size must be >= 1, got ", c.batch_size);
  LOWBIT_CHECK(c.eval_batch_size >= 1, "train: eval-batch-size must be >= 1, got ", c.eval_batch_size);
  LOWBIT_CHECK(c.limit_train >= 0, "train: limit-train must be >= 0 (0: all), got ", c.limit_train);
  LOWBIT_CHECK(c.limit_test >= 0, "train: limit-test must be >= 0 (0: all), got ", c.limit_test);
  LOWBIT_CHECK(c.data_threads >= 0, "train: data-threads must be >= 0 (0: every core), got ", c.data_threads);
  LOWBIT_CHECK(one_of(c.bad_images, {"skip", "refuse"}), "train: bad-images must be skip or refuse, got '",
               c.bad_images, "'");
  for (int64_t h : c.hidden) LOWBIT_CHECK(h >= 1, "train: hidden sizes must be >= 1, got ", h);
  LOWBIT_CHECK(std::isfinite(c.width_mult) && c.width_mult > 0, "train: width-mult must be a finite number > 0, got ",
               c.width_mult);
  LOWBIT_CHECK(one_of(c.optimizer, {"sgd", "adam", "adamw"}), "train: optimizer must be sgd, adam or adamw, got '",
               c.optimizer, "'");
  check_finite_at_least(c.lr, 0, "lr");
  check_finite_at_least(c.momentum, 0, "momentum");
  LOWBIT_CHECK(c.momentum < 1, "train: momentum must be < 1, got ", c.momentum);
  LOWBIT_CHECK(!c.nesterov || (c.optimizer == "sgd" && c.momentum > 0),
               "train: nesterov needs the sgd optimizer and momentum > 0 (optimizer '", c.optimizer, "', momentum ",
               c.momentum, ")");
  check_finite_at_least(c.weight_decay, 0, "weight-decay");
  LOWBIT_CHECK(one_of(c.schedule, {"constant", "cosine", "cosine-iter", "multistep", "exponential"}),
               "train: schedule must be constant, cosine, cosine-iter, multistep or exponential, got '", c.schedule,
               "'");
  for (size_t i = 0; i < c.milestones.size(); ++i) {
    LOWBIT_CHECK(c.milestones[i] >= 1 && (i == 0 || c.milestones[i] > c.milestones[i - 1]),
                 "train: milestones must be strictly increasing epochs >= 1, got ",
                 config_to_json(c)["milestones"].dump());
  }
  LOWBIT_CHECK(c.schedule != "multistep" || !c.milestones.empty(), "train: schedule multistep needs milestones");
  LOWBIT_CHECK(std::isfinite(c.gamma) && c.gamma > 0, "train: gamma must be a finite number > 0, got ", c.gamma);
  LOWBIT_CHECK(c.warmup_epochs >= 0, "train: warmup-epochs must be >= 0, got ", c.warmup_epochs);
  check_finite_at_least(c.grad_clip, 0, "grad-clip");
  LOWBIT_CHECK(c.log_every >= 0, "train: log-every must be >= 0, got ", c.log_every);
  LOWBIT_CHECK(!c.model.empty(), "train: model must not be empty");
  check_quant_config(c);
}

std::map<std::string, double> parse_quant_options(const std::string& text) {
  std::map<std::string, double> options;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    LOWBIT_CHECK(eq != std::string::npos && eq > 0, "train: quant-options item '", item,
                 "' must be key=value (e.g. delta=0.001,output_scale=1)");
    const std::string value = item.substr(eq + 1);
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    LOWBIT_CHECK(used == value.size() && used > 0 && std::isfinite(v), "train: quant-options item '", item,
                 "': the value must be a finite number");
    options[item.substr(0, eq)] = v;
  }
  return options;
}

bool may_change_on_resume(const std::string& key) {
  static const char* const keys[] = {"epochs",     "data-dir",   "device",       "deterministic",
                                     "log-every",  "eval-batch-size", "limit-test", "out",
                                     "init-from",  "data-threads", "bad-images", "sync-bn"};
  const std::string k = normalize_key(key);
  for (const char* n : keys)
    if (k == n) return true;
  return false;
}

}  // namespace lowbit
