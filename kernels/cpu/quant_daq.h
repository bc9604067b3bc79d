// DAQ quantizer CPU loops over contiguous f32 data (per-element math: kernels/quant/daq_math.h).
// Scalar parameter gradients and the standardization sums accumulate in double.
#pragma once

#include <cstdint>

#include "kernels/quant/daq_math.h"

namespace lowbit::cpu {

// stats[0] = mean, stats[1] = unbiased std of w[0..n) (n ≥ 2).
void daq_weight_stats(const float* w, int64_t n, float* stats);
// y = DAQ output; stats = {mean, std} for weights, nullptr for activations. eval selects the
// official eval rounding (clip first) instead of the training forward.
void daq_forward(const float* x, float* y, int64_t n, float l, float u, const float* stats, const DaqConsts& k,
                 bool eval);
// dx (closed-form backward) and the summed parameter gradients *dl, *du.
void daq_backward(const float* x, const float* g, float* dx, int64_t n, float l, float u, const float* stats,
                  const DaqConsts& k, double* dl, double* du);

}  // namespace lowbit::cpu
