// The deploy runtime: runs a checked deploy graph (graph.h) on a batch of images through the ops
// of core/ (binary ops from core/ops/binary.h, float ops for the float layers), so it runs on
// whatever device its tensors are on — the ops pick the CPU or CUDA kernels. On the CPU a
// batch_norm followed by sign (a float layer feeding a binary one) runs as one batch_norm_sign
// pass, which gives the same bits. Multi-bit layers (quantize, multibit_conv2d/linear) run through
// core/ops/multibit.h on the path of the MultibitOptions (automatic by default).
#pragma once

#include <vector>

#include "core/device.h"
#include "core/ops/binary.h"
#include "core/ops/multibit.h"
#include "core/tensor.h"
#include "tools/deploy/graph.h"

namespace lowbit::deploy {

class Runtime {
 public:
  // Checks the graph (check_graph) and copies its tensors to `device`.
  explicit Runtime(Graph graph, Device device = Device::cpu(), XnorOptions options = {},
                   MultibitOptions multibit = {});

  // images: f32 [N, height, width, channels] on the runtime's device -> logits f32 [N, classes].
  Tensor forward(const Tensor& images) const;

  // Op `index` of the graph on its input x (forward runs them all in order).
  Tensor run_op(size_t index, const Tensor& x) const;

  const Graph& graph() const { return graph_; }
  Device device() const { return device_; }

  // The path a multi-bit op (multibit_conv2d/linear) runs on: the options' path, or for automatic
  // the one multibit_auto_path picks for its formats (a convolution reads binary input as ternary).
  MultibitPath multibit_path(size_t index) const;

 private:

  Graph graph_;  // tensors on device_
  Device device_;
  XnorOptions options_;
  MultibitOptions multibit_;
  std::vector<float> steps_;  // per op: a quantize op's step (act_quant.h), else 0
};

}  // namespace lowbit::deploy
