// DAQ quantizer CUDA kernels (kernels/cuda/quant_daq.cu), as plain C++ declarations. Scalar
// parameters (l, u) and the standardization statistics live in device memory; nothing
// synchronizes with the host. Everything runs on the current stream.
#pragma once

#include <cstdint>

#include "kernels/quant/daq_math.h"

namespace lowbit::cuda {

// stats[0] = mean, stats[1] = unbiased std of w (n ≥ 2), computed on the device: one reduction
// pass (shifted sums in double) and a one-thread finish. acc: device scratch of 2 doubles.
void daq_weight_stats(const float* w, int64_t n, float* stats, double* acc);
// stats: device {mean, std} for weights, nullptr for activations. eval: the official eval rule.
void daq_forward(const float* x, float* y, int64_t n, const float* l, const float* u, const float* stats,
                 const DaqConsts& k, bool eval);
// acc: device scratch of 2 doubles (zeroed here); dl, du: device scalars written by the backward.
void daq_backward(const float* x, const float* g, float* dx, int64_t n, const float* l, const float* u,
                  const float* stats, const DaqConsts& k, double* acc, float* dl, float* du);

}  // namespace lowbit::cuda
