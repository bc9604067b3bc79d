// check_layer: the forward + backward check of a Module against a float64 reference, as
// check_op does for ops. The reference receives {x, then the layer's parameters in
// named_parameters() order}; the layer's output is compared with it, then a random weighting of
// the output is backpropagated and the gradients of x and of every parameter are compared with
// central differences of the reference.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"
#include "tests/gradcheck.h"

namespace lowbit::test {

// Forward tolerances of accumulating layers (convolutions, GEMMs).
inline CheckOptions accum_forward() {
  CheckOptions opt;
  opt.fwd_atol = kAccumAtol;
  opt.fwd_rtol = kAccumRtol;
  return opt;
}

inline void check_layer(Module& layer, const ref::Arr& x, const RefFn& reference, Device device,
                        const CheckOptions& opt = {}) {
  std::vector<ref::Arr> inputs{x};
  std::vector<Tensor> grads_of;
  Tensor xt = from_ref(x, device).requires_grad_();
  grads_of.push_back(xt);
  std::vector<std::string> names{"x"};
  for (const auto& [name, p] : layer.named_parameters()) {
    inputs.push_back(to_ref(p));
    grads_of.push_back(p);
    names.push_back(name);
  }
  layer.zero_grad();
  Tensor y = layer(xt);
  ref::Arr want = reference(inputs);
  expect_close(want, y, opt.fwd_atol, opt.fwd_rtol, "forward");

  ref::Arr w = random_arr(want.shape, -1.0, 1.0, 99);
  sum(mul(y, from_ref(w, device))).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    ref::Arr num = ref::numeric_grad(
        [&](const std::vector<ref::Arr>& in) { return ref::weighted_sum(reference(in), w); }, inputs, i, opt.eps);
    ASSERT_TRUE(grads_of[i].grad().defined()) << names[i] << " received no gradient";
    expect_close(num, grads_of[i].grad(), opt.grad_atol, opt.grad_rtol, "gradient of " + names[i]);
  }
}

}  // namespace lowbit::test
