// Linear layer: parameter creation with PyTorch's default initialization (init::layer_default_),
// forward via ops::linear.
#include "layers/linear.h"

#include "core/ops/linalg.h"
#include "layers/init.h"

namespace lowbit {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen, Device device)
    : in_(in_features), out_(out_features) {
  LOWBIT_CHECK(in_features > 0 && out_features > 0, "Linear: in_features (", in_features,
               ") and out_features (", out_features, ") must be positive");
  weight_ = register_parameter("weight", Tensor::empty({out_, in_}, DType::f32, device));
  if (bias) bias_ = register_parameter("bias", Tensor::empty({out_}, DType::f32, device));
  init::layer_default_(weight_, bias_, gen);
}

Tensor Linear::forward(const Tensor& x) {
  LOWBIT_CHECK(x.dim() == 2 && x.size(1) == in_, "Linear(", in_, " -> ", out_, "): input must be [N, ", in_,
               "], got ", shape_str(x.shape()));
  return linear(x, weight_, bias_);
}

}  // namespace lowbit
