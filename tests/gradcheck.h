// check_op: the standard forward + backward check of a differentiable op against its float64
// reference. Runs the op on `device` with inputs requiring grad, compares the output with the
// reference, then backpropagates a random output weighting W and compares every input's gradient
// with central differences of Σ reference(inputs)·W in float64.
#pragma once

#include <functional>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "tests/reference/ops.h"
#include "tests/test_util.h"

namespace lowbit::test {

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;
using RefFn = std::function<ref::Arr(const std::vector<ref::Arr>&)>;

struct CheckOptions {
  double fwd_atol = kForwardAtol, fwd_rtol = kForwardRtol;
  double grad_atol = kGradAtol, grad_rtol = kGradRtol;
  double eps = kFiniteDiffEps;
  std::vector<bool> differentiable;  // per input; empty = all
};

inline void check_op(const OpFn& op, const RefFn& reference, const std::vector<ref::Arr>& inputs, Device device,
                     const CheckOptions& opt = {}) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t = from_ref(inputs[i], device);
    if (opt.differentiable.empty() || opt.differentiable[i]) t.requires_grad_();
    xs.push_back(t);
  }
  Tensor out = op(xs);
  ref::Arr want = reference(inputs);
  expect_close(want, out, opt.fwd_atol, opt.fwd_rtol, "forward");

  ref::Arr w = random_arr(want.shape, -1.0, 1.0, 99);
  Tensor loss = sum(mul(out, from_ref(w, device)));
  loss.backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!opt.differentiable.empty() && !opt.differentiable[i]) continue;
    ref::Arr num = ref::numeric_grad(
        [&](const std::vector<ref::Arr>& in) { return ref::weighted_sum(reference(in), w); }, inputs, i, opt.eps);
    ASSERT_TRUE(xs[i].grad().defined()) << "input " << i << " received no gradient";
    expect_close(num, xs[i].grad(), opt.grad_atol, opt.grad_rtol, "gradient of input " + std::to_string(i));
  }
}

}  // namespace lowbit::test
