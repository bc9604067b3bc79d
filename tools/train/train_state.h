// Between a run's live objects and a Checkpoint (tools/train/checkpoint.h): capturing the model's
// state dict, the optimizer's state, the random streams and the metrics history, and putting
// them back with checks that name what does not fit.
//   checkpoint.config   config_to_json(config)
//   checkpoint.rng      {seed, the Generator's next stream, completed epochs}
//   checkpoint.metrics  [EpochMetrics JSON of every finished epoch]
#pragma once

#include <string>
#include <vector>

#include "core/optim/optimizer.h"
#include "core/random.h"
#include "layers/module.h"
#include "tools/train/checkpoint.h"
#include "tools/train/config.h"
#include "tools/train/metrics.h"

namespace lowbit {

// quant_optimizer: the quantizers' optimizer of a quantized run, or null.
Checkpoint capture_checkpoint(const TrainConfig& config, const Module& model, const Optimizer& optimizer,
                              const Generator& gen, int64_t epoch, const std::vector<EpochMetrics>& history,
                              const Optimizer* quant_optimizer = nullptr);

// Copies the checkpoint's tensors into `model` (in place). Refuses, naming `where` (e.g.
// "checkpoint runs/x/last.safetensors"), a checkpoint of another model name, and missing,
// unexpected or differently shaped tensors; nothing is copied then.
void restore_model(const Checkpoint& checkpoint, Module& model, const std::string& where);
// Optimizer::load_state_dict with the checkpoint's state; errors name `where`.
void restore_optimizer(const Checkpoint& checkpoint, Optimizer& optimizer, const std::string& where);
// The same for the quantizers' optimizer (null: the checkpoint must hold none).
void restore_quant_optimizer(const Checkpoint& checkpoint, Optimizer* optimizer, const std::string& where);
// The checkpoint's metrics history.
std::vector<EpochMetrics> checkpoint_history(const Checkpoint& checkpoint, const std::string& where);

}  // namespace lowbit
