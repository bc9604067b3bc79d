// Pooling modules on NHWC images (wrappers of core/ops/pool.h): MaxPool2d and AvgPool2d with a
// square window (stride defaults to the window, as PyTorch), GlobalAvgPool [N, H, W, C] -> [N, C].
#pragma once

#include <cstdint>

#include "core/export.h"
#include "core/ops/pool.h"
#include "layers/module.h"

namespace lowbit {

class LOWBIT_API MaxPool2d : public Module {
 public:
  // stride 0 = kernel
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : p_{kernel, kernel, stride ? stride : kernel, stride ? stride : kernel, padding, padding} {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, p_); }
  const Pool2dParams& params() const { return p_; }

 private:
  Pool2dParams p_;
};

class LOWBIT_API AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, bool count_include_pad = true)
      : p_{kernel, kernel, stride ? stride : kernel, stride ? stride : kernel, padding, padding},
        count_include_pad_(count_include_pad) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, p_, count_include_pad_); }

 private:
  Pool2dParams p_;
  bool count_include_pad_;
};

class LOWBIT_API GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override { return global_avg_pool(x); }
};

}  // namespace lowbit
