// Batch normalization over the channel axis, which is the LAST axis (NHWC images, [N,C] for
// features). Training normalizes with the biased batch variance and updates the running
// statistics in place (running = (1-momentum)·running + momentum·batch, unbiased variance);
// evaluation uses the running statistics.
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

// gamma/beta: [C] (may be undefined: 1 and 0); running_mean/var: [C] (may be undefined in
// training, then not updated; required in evaluation).
LOWBIT_API Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             const Tensor& running_mean, const Tensor& running_var, bool training,
                             float momentum = 0.1f, float eps = 1e-5f);

}  // namespace lowbit
