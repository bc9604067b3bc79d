// The training loop as a library: the `lowbit train` command and users' programs both call
// train(config). It loads the dataset's train and test splits, builds the model by name, runs
// SGD for the given epochs and evaluates on the test split after each one.
//
// Output (to `log`): the effective settings as one JSON line {"settings": {...}} at the start,
// plain progress lines every log_every steps, and one JSON line of metrics per epoch.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/device.h"

namespace lowbit {

struct TrainConfig {
  std::string model = "mlp";
  std::string dataset = "fashion-mnist";
  std::string data_dir;  // empty: the dataset's default folder
  int64_t epochs = 1;
  int64_t batch_size = 64;
  double lr = 0.05;  // the base learning rate
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::string schedule = "cosine";  // constant, or cosine: lr decays to 0 over the run, per step
  uint64_t seed = 0;
  std::string device = "cpu";  // cpu, cuda, cuda:N, auto
  std::vector<int64_t> hidden = {256};
  int64_t log_every = 200;  // steps between progress lines; 0: none
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;  // means over the epoch's batches / examples
  double test_loss = 0, test_accuracy = 0;
  double lr = 0;                 // at the epoch's first step
  double seconds = 0;            // training time of the epoch (without evaluation)
  double images_per_second = 0;  // training throughput
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  double test_accuracy = 0;  // after the last epoch, in [0, 1]
};

// Throws lowbit::Error naming the field for invalid settings, the file for unreadable data, and
// the epoch and step when the loss becomes NaN or infinite.
TrainResult train(const TrainConfig& config, std::ostream& log);

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when a GPU is present, else CPU). Throws for CUDA in a
// build without it or on a machine without a GPU.
Device parse_device(const std::string& name);
// Known dataset names and the default data folder of one.
std::vector<std::string> dataset_names();
std::string default_data_dir(const std::string& dataset);

// The JSON lines train() prints.
std::string settings_json(const TrainConfig& config);
std::string metrics_json(const EpochMetrics& metrics);

}  // namespace lowbit
