// Turning a TrainConfig into the objects of a run: the device, the data (dataset preset, loaders
// over the train and test splits), the model (seeded, for the data's image shape), the optimizer
// with its parameter groups and the learning-rate schedule. train() and evaluate_checkpoint()
// both build through here, so a checkpoint is always read back into the model it came from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/data/loader.h"
#include "core/data/presets.h"
#include "core/device.h"
#include "core/optim/optimizer.h"
#include "core/optim/schedule.h"
#include "core/random.h"
#include "layers/module.h"
#include "tools/train/config.h"

namespace lowbit {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when a GPU is present, else CPU). Throws for CUDA in a
// build without it or on a machine without a GPU.
Device parse_device(const std::string& name);

struct RunData {
  const data::DatasetPreset* preset = nullptr;
  int64_t channels = 0, height = 0, width = 0;  // of the images
  int64_t num_classes = 0;                      // the preset's, or an image folder's own
  std::unique_ptr<data::BatchSource> train;     // null unless asked for
  std::unique_ptr<data::BatchSource> test;
};

// Reads the splits from config.data_dir (already resolved): the training split only when
// with_train. Loaders honour batch-size, eval-batch-size, seed, limit-train and limit-test; a
// streamed dataset (imagenet) also data-threads and bad-images, and its two splits must have the
// same classes. `shard`: this process's share of every batch (data parallel; core/data/shard.h).
RunData load_data(const TrainConfig& config, Device device, bool with_train, data::Shard shard = {});

// The zoo's model `config.model` for the data's images and the dataset's classes; draws its
// initial weights from `gen`.
std::shared_ptr<Module> build_model(const TrainConfig& config, const RunData& data, Device device, Generator& gen);

// The zoo's model built with quantized layers (QuantLayerFactory of quant_spec) when config.quant
// is not "none".
// sgd, adam or adamw over the model's parameters (without the quantizers' parameters in a
// quantized run): one group "default", or with no-decay-1d the groups "decay" and "no_decay"
// (biases and 1-d parameters, weight decay 0).
std::unique_ptr<Optimizer> build_optimizer(const TrainConfig& config, const Module& model);
// A quantized run's second optimizer: quant-optimizer (adam, or sgd with the run's momentum and
// nesterov) at quant-lr, no weight decay, over the quantizers' parameters and output scales (one
// group "quantizers"). Null for a float run or a model whose quantizers have no parameters.
std::unique_ptr<Optimizer> build_quant_optimizer(const TrainConfig& config, const Module& model);

// The schedule's factor; warm-up (if any) multiplies it.
std::shared_ptr<const LRSchedule> build_schedule(const TrainConfig& config);

}  // namespace lowbit
