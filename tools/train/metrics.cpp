// Epoch metrics as JSON and as curves (through svg_plot.h).
#include "tools/train/metrics.h"

#include <limits>

#include "core/error.h"
#include "tools/train/svg_plot.h"

namespace lowbit {

nlohmann::json metrics_to_json(const EpochMetrics& m) {
  nlohmann::json j = {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"train_accuracy", m.train_accuracy},
          {"test_loss", m.test_loss},
          {"test_accuracy", m.test_accuracy},
          {"lr", m.lr},
          {"seconds", m.seconds},
          {"images_per_second", m.images_per_second}};
  if (!m.quantizers.is_null()) j["quantizers"] = m.quantizers;
  return j;
}

EpochMetrics metrics_from_json(const nlohmann::json& j, const std::string& where) {
  LOWBIT_CHECK(j.is_object(), where, ": epoch metrics must be a JSON object, got ", j.type_name());
  auto number = [&](const char* key) {
    auto it = j.find(key);
    LOWBIT_CHECK(it != j.end(), where, ": epoch metrics lack '", key, "'");
    // nlohmann writes NaN and infinity as null: read them back as NaN.
    if (it->is_null()) return std::numeric_limits<double>::quiet_NaN();
    LOWBIT_CHECK(it->is_number(), where, ": epoch metrics field '", key, "' must be a number, got ", it->dump());
    return it->get<double>();
  };
  EpochMetrics m;
  auto epoch = j.find("epoch");
  LOWBIT_CHECK(epoch != j.end() && epoch->is_number_integer(), where, ": epoch metrics need an integer 'epoch'");
  m.epoch = epoch->get<int64_t>();
  m.train_loss = number("train_loss");
  m.train_accuracy = number("train_accuracy");
  m.test_loss = number("test_loss");
  m.test_accuracy = number("test_accuracy");
  m.lr = number("lr");
  m.seconds = number("seconds");
  m.images_per_second = number("images_per_second");
  if (auto q = j.find("quantizers"); q != j.end()) {
    LOWBIT_CHECK(q->is_object(), where, ": epoch metrics field 'quantizers' must be an object, got ", q->dump());
    m.quantizers = *q;
  }
  return m;
}

std::string metrics_json(const EpochMetrics& m) { return metrics_to_json(m).dump(); }

std::string metrics_jsonl(const std::vector<EpochMetrics>& history) {
  std::string text;
  for (const EpochMetrics& m : history) text += metrics_json(m) + "\n";
  return text;
}

std::string training_curves_svg(const std::vector<EpochMetrics>& history, const std::string& title) {
  svg::Series train_loss{"train", "#1f77b4", {}, {}}, test_loss{"test", "#ff7f0e", {}, {}};
  svg::Series train_acc{"train", "#1f77b4", {}, {}}, test_acc{"test", "#ff7f0e", {}, {}};
  for (const EpochMetrics& m : history) {
    const double x = static_cast<double>(m.epoch);
    train_loss.x.push_back(x), train_loss.y.push_back(m.train_loss);
    test_loss.x.push_back(x), test_loss.y.push_back(m.test_loss);
    train_acc.x.push_back(x), train_acc.y.push_back(100.0 * m.train_accuracy);
    test_acc.x.push_back(x), test_acc.y.push_back(100.0 * m.test_accuracy);
  }
  return svg::charts_side_by_side(title, {{"loss", "epoch", {train_loss, test_loss}},
                                          {"accuracy (%)", "epoch", {train_acc, test_acc}}});
}

}  // namespace lowbit
