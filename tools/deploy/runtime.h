// The deploy runtime: runs a checked deploy graph (graph.h) on a batch of images through the ops
// of core/ (binary ops from core/ops/binary.h, float ops for the float layers), so it runs on
// whatever device its tensors are on — the ops pick the CPU or CUDA kernels. On the CPU a
// batch_norm followed by sign (a float layer feeding a binary one) runs as one batch_norm_sign
// pass, which gives the same bits.
#pragma once

#include "core/device.h"
#include "core/ops/binary.h"
#include "core/tensor.h"
#include "tools/deploy/graph.h"

namespace lowbit::deploy {

class Runtime {
 public:
  // Checks the graph (check_graph) and copies its tensors to `device`.
  explicit Runtime(Graph graph, Device device = Device::cpu(), XnorOptions options = {});

  // images: f32 [N, height, width, channels] on the runtime's device -> logits f32 [N, classes].
  Tensor forward(const Tensor& images) const;

  // Op `index` of the graph on its input x (forward runs them all in order).
  Tensor run_op(size_t index, const Tensor& x) const;

  const Graph& graph() const { return graph_; }
  Device device() const { return device_; }

 private:

  Graph graph_;  // tensors on device_
  Device device_;
  XnorOptions options_;
};

}  // namespace lowbit::deploy
