// Conv2d: 2-d convolution on NHWC images with an OHWI weight [out, k, k, in/groups] and an
// optional bias [out]; square kernel, stride and zero padding; groups (depthwise when
// groups == in == out). Initialized as PyTorch's nn.Conv2d (init::layer_default_), drawn from the
// given generator. Quantized convolutions derive from it and override forward(), so models' init
// passes (dynamic_cast<Conv2d*>) still see them.
#pragma once

#include <cstdint>

#include "core/device.h"
#include "core/export.h"
#include "core/ops/conv.h"
#include "core/random.h"
#include "layers/module.h"

namespace lowbit {

struct Conv2dOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t groups = 1;
  bool bias = true;
};

class LOWBIT_API Conv2d : public Module {
 public:
  Conv2d(const Conv2dOptions& options, Generator& gen, Device device = Device::cpu());
  Tensor forward(const Tensor& x) override;  // [N, H, W, in] -> [N, OH, OW, out]

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  const Conv2dOptions& options() const { return options_; }
  Conv2dParams params() const;  // stride/padding/groups for ops::conv2d

 protected:
  void check_input(const Tensor& x) const;  // rank 4 with `in_channels` channels

 private:
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace lowbit
