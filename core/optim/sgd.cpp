// SGD update (see sgd.h for the formulas) and the checks of its hyper-parameters.
#include "core/optim/sgd.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/elementwise.h"

namespace lowbit {

namespace {
void check_hyper(float value, const char* name) {
  LOWBIT_CHECK(std::isfinite(value) && value >= 0.f, "SGD: ", name, " must be a finite number >= 0, got ", value);
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, SgdOptions options) : params_(std::move(params)), options_(options) {
  check_hyper(options_.lr, "lr");
  check_hyper(options_.momentum, "momentum");
  check_hyper(options_.weight_decay, "weight_decay");
  LOWBIT_CHECK(!options_.nesterov || options_.momentum > 0.f, "SGD: nesterov needs momentum > 0, got momentum ",
               options_.momentum);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    LOWBIT_CHECK(p.defined(), "SGD: parameter ", i, " is an undefined tensor");
    LOWBIT_CHECK(p.dtype() == DType::f32, "SGD: parameter ", i, " has dtype ", dtype_name(p.dtype()),
                 ", expected f32");
    LOWBIT_CHECK(p.requires_grad(), "SGD: parameter ", i, " (shape ", shape_str(p.shape()),
                 ") does not require grad");
  }
  momentum_buffers_.resize(params_.size());
}

void SGD::set_lr(float lr) {
  check_hyper(lr, "lr");
  options_.lr = lr;
}

void SGD::step() {
  NoGradGuard no_grad;
  const SgdOptions& o = options_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    Tensor g = o.weight_decay != 0.f ? add(grad, mul(p.detach(), o.weight_decay)) : grad;
    if (o.momentum != 0.f) {
      Tensor& buf = momentum_buffers_[i];
      if (!buf.defined()) {
        buf = g.clone();  // never alias the gradient: it is updated in place below
      } else {
        buf.mul_(o.momentum).add_(g);
      }
      g = o.nesterov ? add(g, mul(buf, o.momentum)) : buf;
    }
    p.add_(g, -o.lr);
  }
}

void SGD::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

}  // namespace lowbit
