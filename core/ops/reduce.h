// Reductions over all elements or given axes (negative axes allowed; empty list = all), f32.
// max/min send the whole gradient to the first extreme element (the argmax/argmin), so ties
// have one well-defined winner.
#pragma once

#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

using Axes = std::vector<int64_t>;

LOWBIT_API Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
LOWBIT_API Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
LOWBIT_API Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
LOWBIT_API Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
LOWBIT_API Tensor var(const Tensor& x, const Axes& axes = {}, bool unbiased = true,
                      bool keepdim = false);
LOWBIT_API Tensor std(const Tensor& x, const Axes& axes = {}, bool unbiased = true,
                      bool keepdim = false);
// Index (i32) of the first maximum along one axis.
LOWBIT_API Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);

}  // namespace lowbit
