// Test-set inference with timing, for `lowbit infer`: the deployed graph (Runtime) and, for
// comparison, the training graph it was exported from (the checkpoint's model in eval mode), over
// the same loader. Times cover the forward passes and the predictions' copy to the host (which
// waits for the device), not the data loading; one untimed warm-up batch runs first.
#pragma once

#include <cstdint>
#include <vector>

#include "core/data/batch_source.h"
#include "layers/module.h"
#include "tools/deploy/runtime.h"

namespace lowbit::deploy {

struct InferResult {
  std::vector<int32_t> predictions;  // argmax of the logits, in loader order
  int64_t correct = 0;
  double seconds = 0;  // forward time

  int64_t examples() const { return static_cast<int64_t>(predictions.size()); }
  double accuracy() const;
  double images_per_second() const;
};

InferResult infer(const Runtime& runtime, data::BatchSource& loader);
InferResult infer(Module& model, data::BatchSource& loader);

// Positions where both runs predict the same class (they must cover the same examples).
int64_t same_predictions(const InferResult& a, const InferResult& b);

}  // namespace lowbit::deploy
