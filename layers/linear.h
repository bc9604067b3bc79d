// Linear: y = x W^T + b with W [out, in] and b [out], initialized as PyTorch's nn.Linear does:
// W and b uniform in [-1/sqrt(in), 1/sqrt(in)] (kaiming-uniform with a = sqrt(5)), drawn from the
// given generator so a seed fixes every weight (init::layer_default_). Quantized layers derive
// from it and override forward(), so models' init passes (dynamic_cast<Linear*>) still see them.
#pragma once

#include "core/device.h"
#include "core/export.h"
#include "core/random.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen,
         Device device = Device::cpu());
  Tensor forward(const Tensor& x) override;  // x [N, in] -> [N, out]

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

 private:
  int64_t in_, out_;
  Tensor weight_, bias_;
};

}  // namespace lowbit
