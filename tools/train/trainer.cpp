// The training loop behind `lowbit train`: settings checks, data, model, SGD epochs with running
// loss/accuracy and throughput, test evaluation, JSON lines.
#include "tools/train/trainer.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/data/loader.h"
#include "core/data/presets.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "core/optim/schedule.h"
#include "core/optim/sgd.h"
#include "core/random.h"
#include "models/registry.h"

namespace lowbit {

namespace {

void check_config(const TrainConfig& c) {
  LOWBIT_CHECK(c.epochs >= 1, "train: epochs must be >= 1, got ", c.epochs);
  LOWBIT_CHECK(c.batch_size >= 1, "train: batch_size must be >= 1, got ", c.batch_size);
  LOWBIT_CHECK(std::isfinite(c.lr) && c.lr >= 0, "train: lr must be a finite number >= 0, got ", c.lr);
  LOWBIT_CHECK(std::isfinite(c.momentum) && c.momentum >= 0, "train: momentum must be a finite number >= 0, got ",
               c.momentum);
  LOWBIT_CHECK(std::isfinite(c.weight_decay) && c.weight_decay >= 0,
               "train: weight_decay must be a finite number >= 0, got ", c.weight_decay);
  LOWBIT_CHECK(c.schedule == "constant" || c.schedule == "cosine",
               "train: schedule must be constant or cosine, got '", c.schedule, "'");
  LOWBIT_CHECK(c.log_every >= 0, "train: log_every must be >= 0, got ", c.log_every);
  for (int64_t h : c.hidden) LOWBIT_CHECK(h >= 1, "train: hidden sizes must be >= 1, got ", h);
}

// Number of rows whose argmax equals the label.
int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  std::vector<int32_t> pred = argmax(logits, 1).to_host<int32_t>();
  std::vector<int32_t> y = labels.to_host<int32_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < y.size(); ++i) correct += pred[i] == y[i];
  return correct;
}

// Mean loss and accuracy of `model` over every example of `loader`.
std::pair<double, double> evaluate(Module& model, data::DataLoader& loader) {
  NoGradGuard no_grad;
  model.eval();
  loader.start_epoch(0);
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  data::Batch batch;
  while (loader.next(batch)) {
    Tensor logits = model(batch.images);
    loss_sum += static_cast<double>(cross_entropy(logits, batch.labels).item()) * batch.size();
    correct += count_correct(logits, batch.labels);
    seen += batch.size();
  }
  return {loss_sum / seen, static_cast<double>(correct) / seen};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One pass over the training split; fills the training fields of the epoch's metrics.
EpochMetrics train_epoch(Module& model, SGD& sgd, data::DataLoader& loader, int64_t epoch,
                         const std::function<double(int64_t)>& lr_at, int64_t log_every, std::ostream& log) {
  model.train();
  loader.start_epoch(epoch - 1);
  const int64_t steps = loader.num_batches();
  const auto t0 = std::chrono::steady_clock::now();
  double loss_sum = 0;
  int64_t correct = 0, seen = 0, step = 0;
  data::Batch batch;
  while (loader.next(batch)) {
    sgd.set_lr(static_cast<float>(lr_at(step)));
    ++step;  // 1-based in messages
    Tensor logits = model(batch.images);
    Tensor loss = cross_entropy(logits, batch.labels);
    const float loss_value = loss.item();
    LOWBIT_CHECK(std::isfinite(loss_value), "train: the loss became ", loss_value, " at epoch ", epoch, " step ", step,
                 " (lr ", sgd.options().lr, "); lower the learning rate");
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    loss_sum += static_cast<double>(loss_value) * batch.size();
    correct += count_correct(logits.detach(), batch.labels);
    seen += batch.size();
    if (log_every > 0 && (step % log_every == 0 || step == steps)) {
      std::ostringstream line;  // its own stream, so the number format does not stick to `log`
      line << "epoch " << epoch << " step " << step << "/" << steps << std::fixed << std::setprecision(4) << " loss "
           << loss_sum / seen << std::setprecision(2) << " acc " << 100.0 * correct / seen << "% "
           << std::setprecision(0) << seen / seconds_since(t0) << " img/s";
      log << line.str() << std::endl;
    }
  }
  EpochMetrics m;
  m.epoch = epoch;
  m.seconds = seconds_since(t0);
  m.train_loss = loss_sum / seen;
  m.train_accuracy = static_cast<double>(correct) / seen;
  m.images_per_second = seen / m.seconds;
  m.lr = lr_at(0);
  return m;
}

}  // namespace

std::vector<std::string> dataset_names() { return data::dataset_names(); }

std::string default_data_dir(const std::string& dataset) {
  const data::DatasetPreset& p = data::find_dataset(dataset);
  return p.default_dir ? p.default_dir() : "";
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  int index = 0;
  if (name != "cuda") {
    LOWBIT_CHECK(name.rfind("cuda:", 0) == 0 && name.size() > 5 &&
                     name.find_first_not_of("0123456789", 5) == std::string::npos,
                 "train: device must be cpu, cuda, cuda:N or auto, got '", name, "'");
    index = std::stoi(name.substr(5));
  }
  LOWBIT_CHECK(built_with_cuda(), "train: device '", name, "': lowbit was built without CUDA");
  LOWBIT_CHECK(index < cuda_device_count(), "train: device '", name, "': ", cuda_device_count(),
               " CUDA device(s) present");
  return Device::cuda(index);
}

std::string settings_json(const TrainConfig& c) {
  nlohmann::json j = {{"model", c.model},   {"dataset", c.dataset},     {"data_dir", c.data_dir},
                      {"epochs", c.epochs}, {"batch_size", c.batch_size}, {"lr", c.lr},
                      {"momentum", c.momentum}, {"weight_decay", c.weight_decay}, {"schedule", c.schedule}, {"seed", c.seed},
                      {"device", c.device}, {"hidden", c.hidden},       {"log_every", c.log_every}};
  return nlohmann::json{{"settings", j}}.dump();
}

std::string metrics_json(const EpochMetrics& m) {
  nlohmann::json j = {{"epoch", m.epoch},
                      {"train_loss", m.train_loss},
                      {"train_accuracy", m.train_accuracy},
                      {"test_loss", m.test_loss},
                      {"test_accuracy", m.test_accuracy},
                      {"lr", m.lr},
                      {"seconds", m.seconds},
                      {"images_per_second", m.images_per_second}};
  return j.dump();
}

TrainResult train(const TrainConfig& config, std::ostream& log) {
  check_config(config);
  TrainConfig c = config;  // the effective settings
  const data::DatasetPreset& ds = data::find_dataset(c.dataset);
  c.data_dir = ds.resolve_dir(c.data_dir);
  const Device device = parse_device(c.device);
  c.device = device.str();
  log << settings_json(c) << std::endl;

  data::ImageDataset train_set = ds.load_split(c.data_dir, true);
  data::ImageDataset test_set = ds.load_split(c.data_dir, false);
  ModelOptions mo;
  mo.in_channels = train_set.channels;
  mo.in_height = train_set.height;
  mo.in_width = train_set.width;
  mo.num_classes = ds.num_classes;
  mo.hidden = c.hidden;
  mo.device = device;

  Generator gen(c.seed);
  std::shared_ptr<Module> model = make_model(c.model, mo, gen);
  SGD sgd(model->parameters(), {.lr = static_cast<float>(c.lr),
                                .momentum = static_cast<float>(c.momentum),
                                .nesterov = false,
                                .weight_decay = static_cast<float>(c.weight_decay)});
  data::LoaderOptions train_options = ds.loader_options(true);
  train_options.batch_size = c.batch_size;
  train_options.seed = c.seed;
  train_options.device = device;
  data::LoaderOptions test_options = ds.loader_options(false);
  test_options.batch_size = 1000;
  test_options.device = device;
  data::DataLoader train_loader(std::move(train_set), train_options);
  data::DataLoader test_loader(std::move(test_set), test_options);

  TrainResult result;
  const int64_t steps_per_epoch = train_loader.num_batches();
  for (int64_t epoch = 1; epoch <= c.epochs; ++epoch) {
    // The lr of each step: constant, or cosine over all of the run's steps.
    auto lr_at = [&](int64_t step) {
      if (c.schedule == "constant") return c.lr;
      return cosine_lr(c.lr, (epoch - 1) * steps_per_epoch + step, c.epochs * steps_per_epoch);
    };
    EpochMetrics m = train_epoch(*model, sgd, train_loader, epoch, lr_at, c.log_every, log);
    std::tie(m.test_loss, m.test_accuracy) = evaluate(*model, test_loader);
    log << metrics_json(m) << std::endl;
    result.epochs.push_back(m);
  }
  result.test_accuracy = result.epochs.back().test_accuracy;
  return result;
}

}  // namespace lowbit
