// Flatten: merges axes start..end (default: everything after the batch axis), e.g. NHWC images
// [N, H, W, C] -> [N, H*W*C] before a Linear layer.
#pragma once

#include "core/export.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API Flatten : public Module {
 public:
  explicit Flatten(int64_t start_axis = 1, int64_t end_axis = -1) : start_(start_axis), end_(end_axis) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_, end_); }
  int64_t start_axis() const { return start_; }
  int64_t end_axis() const { return end_; }

 private:
  int64_t start_, end_;
};

}  // namespace lowbit
