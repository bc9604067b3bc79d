// Autograd: an eager tape. Each differentiable op that sees an input requiring grad records a
// Node on its output; backward() walks the nodes in reverse topological order.
//
// Conventions (said once, here):
//  - Parameter (leaf) gradients ACCUMULATE: leaf.grad += incoming gradient.
//  - Activation gradients are WRITTEN: a node's backward returns fresh tensors, one per input.
//  - Backward runs with grad mode off (no higher-order gradients).
//  - After backward without retain_graph, nodes drop their saved tensors; a second backward
//    through them throws.
//  - A node's backward captures outputs only through out.detach() (no reference cycles).
//  - Gradients flowing through the graph are f32 (the engine checks); a leaf of another float
//    dtype receives its accumulated gradient converted to its own dtype.
//  - A returned gradient may alias grad_out (e.g. a view of it): the engine never modifies a
//    gradient in place, it sums out of place.
//  - There is no version counter: modifying a saved input in place (under no_grad) between the
//    forward and the backward pass gives wrong gradients. Optimizers step after backward.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

class LOWBIT_API Node {
 public:
  struct Edge {
    std::shared_ptr<Node> fn;  // null when that input does not require grad
    Shape shape;               // the input's shape: its gradient must have it
  };
  virtual ~Node() = default;
  // Gradients for each input given the gradient of the output (undefined = no gradient).
  virtual std::vector<Tensor> apply(const Tensor& grad_out) = 0;
  virtual void release() {}  // drops saved tensors
  const std::string& name() const { return name_; }
  std::vector<Edge>& next() { return next_; }

 protected:
  explicit Node(std::string name) : name_(std::move(name)) {}
  std::string name_;
  std::vector<Edge> next_;
};

struct LOWBIT_API AutogradMeta {
  bool requires_grad = false;
  Tensor grad;                        // accumulated gradient (leaves)
  std::shared_ptr<Node> grad_fn;      // producing node (non-leaves)
  std::weak_ptr<Node> accumulator;    // the leaf's AccumulateGrad node, while a graph uses it
  // add_grad_ready_hook's callbacks with their handles (leaves).
  std::vector<std::pair<int64_t, std::function<void(const Tensor&)>>> grad_ready_hooks;
};

// Grad mode (thread-local, on by default).
LOWBIT_API bool grad_enabled();
LOWBIT_API void set_grad_enabled(bool enabled);
class LOWBIT_API NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and any input requires grad: the op should record a node.
LOWBIT_API bool needs_grad(std::initializer_list<const Tensor*> inputs);
LOWBIT_API bool needs_grad(const std::vector<Tensor>& inputs);

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

// Records a node named `name` on `out` whose backward is `fn` (which captures what it saves).
// `inputs` are the op's differentiable inputs, in the order fn returns their gradients.
LOWBIT_API void record(Tensor& out, const char* name, const std::vector<Tensor>& inputs,
                       BackwardFn fn);

// The engine: backpropagates `grad` (or 1 for a one-element root) from `root`.
LOWBIT_API void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Gradient-ready hooks of a leaf that requires grad: fn(leaf) runs each time a backward pass has
// finished accumulating into leaf.grad(), i.e. once per pass that reaches the leaf, after all of
// that pass's contributions are summed in, while the pass goes on with the other nodes (so data-
// parallel training can start reducing a gradient during the backward: core/dist/grad_reducer.h).
// It runs on the backward's thread with grad mode off and must not start another backward.
// Returns a handle for remove_grad_ready_hook. Throws for a tensor that is not such a leaf.
LOWBIT_API int64_t add_grad_ready_hook(const Tensor& leaf, std::function<void(const Tensor&)> fn);
LOWBIT_API void remove_grad_ready_hook(const Tensor& leaf, int64_t handle);

}  // namespace lowbit
