// CPU loops of the SAT quantizers (kernels/quant/sat_math.h): the DoReFa-tanh weight quantizer
// with SAT's constant rescaling, and CG-PACT for activations. Contiguous f32 data; tensor-wide
// statistics and parameter gradients are accumulated in double.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// Weight statistics, written to stats[0..2] = {M = max|tanh w|, scale, k = #elements with |t| = M};
// M = 1 for an all-zero tensor.
// scale = 1/(√n_out·std(Q)) with the unbiased std when rescale, else 1 (std taken as 1 when it is
// 0 or n < 2).
void sat_weight_stats(const float* w, int64_t n, int bits, int scheme, bool rescale, int64_t n_out, float* stats);
// y = Q(w)·scale, with stats from sat_weight_stats.
void sat_weight_forward(const float* w, float* y, int64_t n, int bits, int scheme, const float* stats);
// dx for the upstream gradient g; autograd_max adds the gradient through M.
void sat_weight_backward(const float* g, const float* w, float* dx, int64_t n, const float* stats, bool autograd_max);

// CG-PACT: alpha_p points to the learnable clip (α = |α_p|).
void cgpact_forward(const float* x, float* y, int64_t n, int bits, const float* alpha_p);
// dx, and *dalpha_p = sign(α_p)·Σ (calibrated clip gradient).
void cgpact_backward(const float* g, const float* x, float* dx, float* dalpha_p, int64_t n, int bits,
                     const float* alpha_p);

}  // namespace lowbit::cpu
