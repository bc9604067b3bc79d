// CUDA kernels of the SAT quantizers (kernels/cuda/quant_sat.cu), as plain C++ declarations. All
// pointers are device memory; scalars (M, scale, α_p) are read from device memory, so nothing
// synchronizes with the host. Launched on the current stream.
#pragma once

#include <cstdint>

#include "kernels/cuda/quant_ties.h"

namespace lowbit::cuda {

// Writes stats[0..2] = {M, scale, k} (as kernels/cpu/quant_sat.h) and y = Q(w)·scale.
// work: device scratch of 3 doubles.
void sat_weight_forward(const float* w, float* y, float* stats, double* work, int64_t n, int bits, int scheme,
                        bool rescale, int64_t n_out);
// dx from g and the forward's stats; work: kMaxPathScratchWords doubles (quant_ties.h; used when
// autograd_max).
void sat_weight_backward(const float* g, const float* w, float* dx, const float* stats, double* work, int64_t n,
                         bool autograd_max);

void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p);
// dx and *dalpha_p (device, 1 float) = sign(α_p)·Σ calibrated clip gradient; work: 1 double.
void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, double* work, int64_t n, int bits,
                     const float* alpha_p);

}  // namespace lowbit::cuda
