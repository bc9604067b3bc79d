// Test-set evaluation: of a live model over a loader (after every training epoch), and of a saved
// checkpoint (`lowbit eval`), rebuilt exactly as its run built it.
#pragma once

#include <cstdint>
#include <string>

#include "core/data/batch_source.h"
#include "core/tensor.h"
#include "layers/module.h"
#include "tools/train/config.h"

namespace lowbit {

struct EvalResult {
  double loss = 0;      // mean cross-entropy per example
  double accuracy = 0;  // in [0, 1]
  int64_t examples = 0;
};

// Rows of `logits` whose argmax equals the label.
int64_t count_correct(const Tensor& logits, const Tensor& labels);

// Puts the model in eval mode and runs every batch of the loader's epoch 0, without gradients.
EvalResult evaluate(Module& model, data::BatchSource& loader);

// Which checkpoint to evaluate on what. Every setting left at its "unset" value is the run's own
// (from the checkpoint's config), so by default a checkpoint is evaluated as its run evaluated it.
struct EvalConfig {
  std::string checkpoint{};  // a .safetensors checkpoint file
  std::string dataset{};    // "": the run's
  std::string data_dir{};   // "": the run's (or the dataset's default folder for another dataset)
  std::string device{};     // "": the run's
  int64_t batch_size = 0;   // 0: the run's eval-batch-size
  int64_t limit_test = -1;  // -1: the run's limit-test; 0: the whole test split
};

struct CheckpointEval {
  EvalResult result;
  TrainConfig config;  // the run's settings with the overrides applied
  int64_t epoch = 0;   // epochs the checkpoint had completed
};

// Throws lowbit::Error naming the checkpoint for a corrupt file or one that does not fit the
// model its config names.
CheckpointEval evaluate_checkpoint(const EvalConfig& eval);

}  // namespace lowbit
