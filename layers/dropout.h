// Dropout module: in training zeroes each element with probability p and scales the rest by
// 1/(1-p) (core/ops/dropout.h); identity in evaluation. Draws from the Generator given at
// construction (not owned: it must outlive the module) or, without one, default_generator().
#pragma once

#include "core/export.h"
#include "core/ops/dropout.h"
#include "core/random.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training(), gen_); }
  float p() const { return p_; }

 private:
  float p_;
  Generator* gen_;
};

}  // namespace lowbit
