// Per-epoch metrics of a run: the struct, its JSON line (one per epoch in metrics.jsonl, also
// printed) and the training-curve plot drawn from a run's history.
//   {"epoch":3,"train_loss":0.41,"train_accuracy":0.85,"test_loss":0.44,"test_accuracy":0.84,
//    "lr":0.05,"seconds":14.2,"images_per_second":4230.5}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lowbit {

struct EpochMetrics {
  int64_t epoch = 0;                          // 1-based
  double train_loss = 0, train_accuracy = 0;  // means over the epoch's examples; accuracy in [0, 1]
  double test_loss = 0, test_accuracy = 0;
  double lr = 0;                 // of the first parameter group at the epoch's first step
  double seconds = 0;            // training time of the epoch (without evaluation)
  double images_per_second = 0;  // training throughput
  // Quantized runs: {"NAME": {"PARAM": value, ...}} of every quantizer's and quantized layer's
  // scalar parameters and buffers (l, u, alpha, delta, ...) after the epoch; null otherwise.
  nlohmann::json quantizers;
};

nlohmann::json metrics_to_json(const EpochMetrics& m);
// Throws lowbit::Error naming `where` and the field for a missing or non-numeric field.
EpochMetrics metrics_from_json(const nlohmann::json& j, const std::string& where);

// The one-line JSON text of metrics_to_json.
std::string metrics_json(const EpochMetrics& m);
// metrics.jsonl: one line per epoch.
std::string metrics_jsonl(const std::vector<EpochMetrics>& history);

// curves.svg: loss (train, test) and accuracy (train, test) per epoch, side by side.
std::string training_curves_svg(const std::vector<EpochMetrics>& history, const std::string& title);

}  // namespace lowbit
