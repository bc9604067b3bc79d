// Activation modules (parameter-free wrappers of the elementwise ops): ReLU, and HardTanh
// (clamp to [lo, hi], default [-1, 1]; gradient 1 on [lo, hi] as PyTorch's clamp).
#pragma once

#include "core/export.h"
#include "core/ops/elementwise.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

class LOWBIT_API HardTanh : public Module {
 public:
  explicit HardTanh(float lo = -1.f, float hi = 1.f) : lo_(lo), hi_(hi) {}
  Tensor forward(const Tensor& x) override { return hardtanh(x, lo_, hi_); }
  float lo() const { return lo_; }
  float hi() const { return hi_; }

 private:
  float lo_, hi_;
};

}  // namespace lowbit
