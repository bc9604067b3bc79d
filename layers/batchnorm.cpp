// BatchNorm layers: parameter/buffer creation, input checks, forward via ops::batch_norm (or
// dist::sync_batch_norm when synchronized).
#include "layers/batchnorm.h"

#include "core/error.h"
#include "core/dist/sync_batch_norm.h"
#include "core/ops/norm.h"

namespace lowbit {

BatchNorm::BatchNorm(int64_t num_features, int64_t input_rank, const char* name, const BatchNormOptions& options,
                     Device device)
    : num_features_(num_features), input_rank_(input_rank), name_(name), options_(options) {
  LOWBIT_CHECK(num_features > 0, name, ": num_features must be positive, got ", num_features);
  LOWBIT_CHECK(options.momentum >= 0.f && options.momentum <= 1.f && options.eps >= 0.f, name,
               ": momentum (", options.momentum, ") must be in [0, 1] and eps (", options.eps, ") non-negative");
  if (options.affine) {
    weight_ = register_parameter("weight", Tensor::ones({num_features}, DType::f32, device));
    bias_ = register_parameter("bias", Tensor::zeros({num_features}, DType::f32, device));
  }
  running_mean_ = register_buffer("running_mean", Tensor::zeros({num_features}, DType::f32, device));
  running_var_ = register_buffer("running_var", Tensor::ones({num_features}, DType::f32, device));
}

Tensor BatchNorm::forward(const Tensor& x) {
  LOWBIT_CHECK(x.dim() == input_rank_ && x.size(-1) == num_features_, name_, "(", num_features_,
               "): input must be ", input_rank_ == 2 ? "[N, " : "NHWC [N, H, W, ", num_features_, "], got ",
               shape_str(x.shape()));
  if (sync_ && is_training())
    return dist::sync_batch_norm(x, weight_, bias_, running_mean_, running_var_, options_.momentum, options_.eps, sync_);
  return batch_norm(x, weight_, bias_, running_mean_, running_var_, is_training(), options_.momentum, options_.eps);
}

}  // namespace lowbit
