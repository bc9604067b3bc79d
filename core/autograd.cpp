// The autograd engine: node recording, leaf accumulation and the reverse topological walk.
#include "core/autograd.h"

#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "core/ops/elementwise.h"

namespace lowbit {

namespace {

thread_local bool g_grad_enabled = true;

// Backward of a recorded op: a closure that owns the saved tensors until release().
class FunctionNode final : public Node {
 public:
  FunctionNode(const char* name, BackwardFn fn) : Node(name), fn_(std::move(fn)) {}
  std::vector<Tensor> apply(const Tensor& grad_out) override {
    LOWBIT_CHECK(fn_ != nullptr, "backward through the graph a second time (node '", name_,
                 "'): its saved tensors were freed by the first backward; pass "
                 "retain_graph=true to the first backward() to keep them");
    return fn_(grad_out);
  }
  void release() override { fn_ = nullptr; }

 private:
  BackwardFn fn_;
};

// Adds incoming gradients into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : Node("AccumulateGrad"), leaf_(leaf) {}
  std::vector<Tensor> apply(const Tensor& grad_out) override {
    if (auto impl = leaf_.lock()) {
      Tensor leaf(impl);
      Tensor current = leaf.grad();
      if (!current.defined()) {
        leaf.set_grad(grad_out.detach().clone().to(leaf.dtype()));
      } else if (current.dtype() == DType::f32) {
        current.add_(grad_out);
      } else {
        leaf.set_grad(add(current.to(DType::f32), grad_out).to(leaf.dtype()));
      }
      if (impl->autograd && !impl->autograd->grad_ready_hooks.empty()) {
        const auto hooks = impl->autograd->grad_ready_hooks;  // a hook may remove itself
        for (const auto& [handle, fn] : hooks) fn(leaf);
      }
    }
    return {};
  }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

std::shared_ptr<Node> edge_for(const Tensor& t) {
  TensorImpl* impl = t.unsafe_impl();
  if (!impl->autograd || !impl->autograd->requires_grad) return nullptr;
  if (impl->autograd->grad_fn) return impl->autograd->grad_fn;
  auto acc = impl->autograd->accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->autograd->accumulator = acc;
  }
  return acc;
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool enabled) { g_grad_enabled = enabled; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn) {
  auto node = std::make_shared<FunctionNode>(name, std::move(fn));
  for (const Tensor& in : inputs) {
    node->next().push_back({in.defined() ? edge_for(in) : nullptr,
                            in.defined() ? in.shape() : Shape{}});
  }
  TensorImpl* impl = out.unsafe_impl();
  if (!impl->autograd) impl->autograd = std::make_unique<AutogradMeta>();
  impl->autograd->requires_grad = true;
  impl->autograd->grad_fn = std::move(node);
}

int64_t add_grad_ready_hook(const Tensor& leaf, std::function<void(const Tensor&)> fn) {
  LOWBIT_CHECK(leaf.defined() && leaf.is_leaf() && leaf.requires_grad(),
               "add_grad_ready_hook: needs a leaf tensor that requires grad (a parameter)");
  LOWBIT_CHECK(fn != nullptr, "add_grad_ready_hook: empty function");
  static std::atomic<int64_t> next_handle{1};
  const int64_t handle = next_handle++;
  leaf.unsafe_impl()->autograd->grad_ready_hooks.emplace_back(handle, std::move(fn));
  return handle;
}

void remove_grad_ready_hook(const Tensor& leaf, int64_t handle) {
  if (!leaf.defined() || !leaf.unsafe_impl()->autograd) return;
  auto& hooks = leaf.unsafe_impl()->autograd->grad_ready_hooks;
  std::erase_if(hooks, [handle](const auto& h) { return h.first == handle; });
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  LOWBIT_CHECK(root.requires_grad(),
               "backward() on a tensor that does not require grad (shape ", shape_str(root.shape()),
               "): no input of the computation had requires_grad set, or it ran under no_grad");
  Tensor seed = grad;
  if (!seed.defined()) {
    LOWBIT_CHECK(root.numel() == 1, "backward() without a gradient needs a one-element output; got shape ",
                 shape_str(root.shape()), " (pass the output's gradient explicitly)");
    seed = Tensor::ones(root.shape(), DType::f32, root.device());
  }
  LOWBIT_CHECK(seed.shape() == root.shape(), "backward(): gradient shape ", shape_str(seed.shape()),
               " does not match the output's shape ", shape_str(root.shape()));
  NoGradGuard no_grad;

  std::shared_ptr<Node> start = edge_for(root);
  // Topological order by iterative DFS (post-order), then count dependencies.
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{start.get(), 0}};
  seen.insert(start.get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->next().size()) {
      Node* child = node->next()[i++].fn.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> pending;
  pending[start.get()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;  // no gradient reached this node
    Tensor g = std::move(found->second);
    pending.erase(found);
    std::vector<Tensor> grads = node->apply(g);
    auto& edges = node->next();
    LOWBIT_CHECK(grads.size() == edges.size() || edges.empty(), "node '", node->name(),
                 "' returned ", grads.size(), " gradients for ", edges.size(), " inputs");
    for (size_t k = 0; k < edges.size(); ++k) {
      if (!edges[k].fn || !grads[k].defined()) continue;
      LOWBIT_CHECK(grads[k].dtype() == DType::f32, "node '", node->name(), "' produced a ",
                   dtype_name(grads[k].dtype()), " gradient for input ", k, "; gradients are f32");
      LOWBIT_CHECK(grads[k].shape() == edges[k].shape, "node '", node->name(), "' produced a gradient of shape ",
                   shape_str(grads[k].shape()), " for input ", k, " of shape ", shape_str(edges[k].shape));
      Tensor& slot = pending[edges[k].fn.get()];
      slot = slot.defined() ? add(slot, grads[k]) : grads[k];
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace lowbit
