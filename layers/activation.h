// Activation modules (parameter-free wrappers of the elementwise ops).
#pragma once

#include "core/export.h"
#include "core/ops/elementwise.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

}  // namespace lowbit
