// CPU loops of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT) over contiguous
// f32 data; the per-element math is kernels/quant/baseline_math.h. Scalar parameter gradients and
// tensor-wide statistics are accumulated in double.
#pragma once

#include <cstdint>

namespace lowbit::cpu::qbase {

// STE (bits = 1: binarizing sign; bits ≥ 2: levels on [lo, 1]); backward identity or 1{|x| ≤ 1}.
void ste_forward(const float* x, float* y, int64_t n, int bits, float lo);
void ste_backward(const float* x, const float* g, float* dx, int64_t n, bool saturate);

// XNOR-Net weights: `channels` rows of `per` elements. alpha[c] = mean|W_c| (written by forward).
void xnor_weight_forward(const float* w, float* y, float* alpha, int64_t channels, int64_t per);
void xnor_weight_backward(const float* w, const float* g, const float* alpha, float* dw, int64_t channels,
                          int64_t per);

// DoReFa weights. k = 1: y = E·b(w), E = mean|w| (backward: dx = g, nothing to launch).
void dorefa_w1_forward(const float* w, float* y, int64_t n);
// k ≥ 2: stats[0] = M = max|tanh w|, stats[1] = number of elements attaining it.
void dorefa_wk_forward(const float* w, float* y, int64_t n, int bits, float* stats);
void dorefa_wk_backward(const float* w, const float* g, float* dw, int64_t n, const float* stats);

// DoReFa activations.
void dorefa_act_forward(const float* x, float* y, int64_t n, int bits);
void dorefa_act_backward(const float* x, const float* g, float* dx, int64_t n);

// PACT; alpha_p is the learnable scalar (α = |α_p|); *dalpha_p = sign(α_p)·Σ g·1{x ≥ α}.
void pact_forward(const float* x, float* y, int64_t n, float alpha_p, int bits);
void pact_backward(const float* x, const float* g, float* dx, int64_t n, float alpha_p, float* dalpha_p);

}  // namespace lowbit::cpu::qbase
