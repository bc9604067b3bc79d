// Conv2d layer: option checks, parameter creation with PyTorch's default init, forward via
// ops::conv2d.
#include "layers/conv2d.h"

#include "core/error.h"
#include "layers/init.h"

namespace lowbit {

Conv2d::Conv2d(const Conv2dOptions& o, Generator& gen, Device device) : options_(o) {
  LOWBIT_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel > 0 && o.stride > 0 && o.padding >= 0,
               "Conv2d: in_channels (", o.in_channels, "), out_channels (", o.out_channels, "), kernel (", o.kernel,
               ") and stride (", o.stride, ") must be positive and padding (", o.padding, ") non-negative");
  LOWBIT_CHECK(o.groups >= 1 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0, "Conv2d: groups (",
               o.groups, ") must divide in_channels (", o.in_channels, ") and out_channels (", o.out_channels, ")");
  weight_ = register_parameter(
      "weight", Tensor::empty({o.out_channels, o.kernel, o.kernel, o.in_channels / o.groups}, DType::f32, device));
  if (o.bias) bias_ = register_parameter("bias", Tensor::empty({o.out_channels}, DType::f32, device));
  init::layer_default_(weight_, bias_, gen);
}

Conv2dParams Conv2d::params() const {
  const Conv2dOptions& o = options_;
  return {.stride_h = o.stride, .stride_w = o.stride, .pad_h = o.padding, .pad_w = o.padding, .groups = o.groups};
}

void Conv2d::check_input(const Tensor& x) const {
  LOWBIT_CHECK(x.dim() == 4 && x.size(3) == options_.in_channels, "Conv2d(", options_.in_channels, " -> ",
               options_.out_channels, ", ", options_.kernel, "x", options_.kernel, "): input must be NHWC [N, H, W, ",
               options_.in_channels, "], got ", shape_str(x.shape()));
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input(x);
  return conv2d(x, weight_, bias_, params());
}

}  // namespace lowbit
