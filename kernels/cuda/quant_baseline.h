// CUDA kernels of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT), declared as
// plain C++ so that quant/*.cpp can call them. Every pointer is device memory; launches go to
// the current stream and never synchronize the host. Per-element math: kernels/quant/baseline_math.h.
#pragma once

#include <cstdint>

#include "kernels/cuda/quant_ties.h"

namespace lowbit::cuda::qbase {

void ste_forward(const float* x, float* y, int64_t n, int bits, float lo);
void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate);

// alpha: [channels], written by the forward (mean|W_c|), read by the backward.
void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per);
void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per);

// DoReFa weights k = 1; sum_abs: one double of scratch (Σ|w| accumulator).
void dorefa_w1_forward(const float* w, float* y, int64_t n, double* sum_abs);
// k ≥ 2; stats[0] = M = max|tanh w|, stats[1] = tie count (written by the forward).
void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats);
// scratch: kMaxPathScratchWords doubles (kernels/cuda/quant_ties.h: the Σ g·tanh w accumulator and
// the tie list), 8-byte aligned.
void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats, double* scratch);

void dorefa_act_forward(const float* x, float* y, int64_t n, int bits);
void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n);

// alpha_p, dalpha_p: one float each in device memory.
void pact_forward(const float* x, float* y, int64_t n, const float* alpha_p, int bits);
void pact_backward(const float* x, const float* g, float* dx, int64_t n, const float* alpha_p, float* dalpha_p);

}  // namespace lowbit::cuda::qbase
