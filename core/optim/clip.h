// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_) and weight clipping, the
// post-step projection of BinaryConnect (clip real-valued weights to [-1, 1]):
//   double norm = clip_grad_norm(model.parameters(), 5.0);   // between backward() and step()
//   sgd.add_post_step_hook(weight_clip_hook(binary_weights, -1.f, 1.f));
#pragma once

#include <vector>

#include "core/export.h"
#include "core/optim/optimizer.h"
#include "core/tensor.h"

namespace lowbit {

// The L2 norm of all gradients together (parameters without a gradient count as zero), summed in
// double. When it exceeds max_norm, every gradient is replaced by grad * max_norm / (norm + 1e-6)
// (new tensors: gradients may be shared, so they are never scaled in place). A non-finite norm
// is returned with the gradients left as they are, for the caller to handle.
LOWBIT_API double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// Clamps every element of each parameter to [lo, hi], in place (f32, contiguous).
LOWBIT_API void clip_weights(const std::vector<Tensor>& params, float lo, float hi);

// A post-step hook calling clip_weights(params, lo, hi); checks lo <= hi now.
LOWBIT_API Optimizer::Hook weight_clip_hook(std::vector<Tensor> params, float lo, float hi);

}  // namespace lowbit
