// Shape ops: pad (constant value; e.g. zero channels for ResNet option-A shortcuts) and cat.
// Views (reshape, permute, slice, ...) are Tensor methods, implemented in core/ops/view.cpp.
#pragma once

#include <utility>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

// pads[i] = (before, after) for axis i; one entry per axis.
LOWBIT_API Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads,
                      float value = 0.f);
LOWBIT_API Tensor cat(const std::vector<Tensor>& tensors, int64_t axis);

}  // namespace lowbit
