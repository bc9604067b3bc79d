// Batch normalization layers over the channel axis, which is the LAST axis: BatchNorm1d for
// features [N, C], BatchNorm2d for NHWC images [N, H, W, C]. Both call ops::batch_norm (which
// normalizes with the batch statistics in training and updates the running ones in place, and
// uses the running ones in evaluation). Parameters weight (γ = 1) and bias (β = 0) when affine;
// buffers running_mean (0) and running_var (1). PyTorch's defaults: momentum 0.1, eps 1e-5.
// Data-parallel training may synchronize the statistics over the ranks: set_sync(comm) makes
// training-mode forwards call dist::sync_batch_norm (core/dist/sync_batch_norm.h); evaluation is
// unchanged.
#pragma once

#include <cstdint>
#include <memory>

#include "core/device.h"
#include "core/export.h"
#include "layers/module.h"

namespace lowbit {

namespace dist {
class Communicator;
}

struct BatchNormOptions {
  float momentum = 0.1f;
  float eps = 1e-5f;
  bool affine = true;
};

class LOWBIT_API BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;

  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // undefined unless affine
  const Tensor& bias() const { return bias_; }      // undefined unless affine
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  // Training statistics over every rank of `comm` (null: this process's batch only).
  void set_sync(std::shared_ptr<dist::Communicator> comm) { sync_ = std::move(comm); }
  bool synchronized() const { return sync_ != nullptr; }

 protected:
  BatchNorm(int64_t num_features, int64_t input_rank, const char* name, const BatchNormOptions& options,
            Device device);

 private:
  int64_t num_features_, input_rank_;
  const char* name_;
  BatchNormOptions options_;
  Tensor weight_, bias_, running_mean_, running_var_;
  std::shared_ptr<dist::Communicator> sync_;
};

class LOWBIT_API BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, const BatchNormOptions& options = {}, Device device = Device::cpu())
      : BatchNorm(num_features, 2, "BatchNorm1d", options, device) {}
};

class LOWBIT_API BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, const BatchNormOptions& options = {}, Device device = Device::cpu())
      : BatchNorm(num_features, 4, "BatchNorm2d", options, device) {}
};

}  // namespace lowbit
