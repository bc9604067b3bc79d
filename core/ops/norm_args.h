// Argument checks and small helpers shared by batch_norm (core/ops/norm.cpp) and sync_batch_norm
// (core/dist/sync_batch_norm.cpp): x f32 channels-last with at least 2 axes, optional per-channel
// f32 [C] parameters on x's device, running statistics given together. Errors name `op`.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "core/tensor.h"

namespace lowbit::detail {

struct BatchNormShape {
  int64_t channels = 0;  // C, the last axis of x
  int64_t rows = 0;      // values per channel: numel / C
};

inline void check_batch_norm_param(const char* op, const Tensor& p, const Tensor& x, int64_t channels,
                                   const char* arg) {
  if (!p.defined()) return;
  check_dtype(p, DType::f32, op, arg);
  check_same_device(x, p, op);
  LOWBIT_CHECK(p.shape() == Shape{channels}, op, ": ", arg, " must have shape [", channels,
               "] (the channel count, last axis of x ", shape_str(x.shape()), "), got ", shape_str(p.shape()));
}

inline BatchNormShape check_batch_norm_args(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                            const Tensor& running_mean, const Tensor& running_var) {
  check_dtype(x, DType::f32, op, "x");
  LOWBIT_CHECK(x.dim() >= 2, op, ": x must be [N, C] or [N, H, W, C] (channels last), got shape ",
               shape_str(x.shape()));
  BatchNormShape s;
  s.channels = x.shape().back();
  s.rows = s.channels > 0 ? x.numel() / s.channels : 0;
  check_batch_norm_param(op, gamma, x, s.channels, "gamma");
  check_batch_norm_param(op, beta, x, s.channels, "beta");
  check_batch_norm_param(op, running_mean, x, s.channels, "running_mean");
  check_batch_norm_param(op, running_var, x, s.channels, "running_var");
  LOWBIT_CHECK(running_mean.defined() == running_var.defined(), op,
               ": running_mean and running_var must be given together (or both omitted)");
  return s;
}

inline float* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
inline Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

}  // namespace lowbit::detail
