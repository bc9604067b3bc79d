// Linear layer: parameter creation with PyTorch's default initialization, forward via ops::linear.
#include "layers/linear.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"

namespace lowbit {

namespace {
// Uniform in [-bound, bound) from one draw of gen.
Tensor uniform_symmetric(const Shape& shape, float bound, Generator& gen, Device device) {
  NoGradGuard no_grad;
  return (Tensor::rand(shape, device, &gen) * 2.f - 1.f) * bound;
}
}  // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen, Device device)
    : in_(in_features), out_(out_features) {
  LOWBIT_CHECK(in_features > 0 && out_features > 0, "Linear: in_features (", in_features,
               ") and out_features (", out_features, ") must be positive");
  const float bound = 1.f / std::sqrt(static_cast<float>(in_features));
  weight_ = register_parameter("weight", uniform_symmetric({out_, in_}, bound, gen, device));
  if (bias) bias_ = register_parameter("bias", uniform_symmetric({out_}, bound, gen, device));
}

Tensor Linear::forward(const Tensor& x) {
  LOWBIT_CHECK(x.dim() == 2 && x.size(1) == in_, "Linear(", in_, " -> ", out_, "): input must be [N, ", in_,
               "], got ", shape_str(x.shape()));
  return linear(x, weight_, bias_);
}

}  // namespace lowbit
