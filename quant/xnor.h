// XNOR-Net (Rastegari et al. 2016; spec §6; golden xnor.json). Weights: per-output-channel scale
// α_c = mean|W_c| over all but the first axis of an [out, in] or OHWI weight (not detached),
// y = α_c·sign(W) with sign(0) = +1, and the autograd gradient
//   dW = α_c·g·1{|W| ≤ 1} + sign(W)·(1/n)·Σ_{j∈c} g_j·sign_b(W_j)   (sign(0) = 0 in the first
// factor, n = elements per channel); an all-zero channel gets α = 0, y = 0, dW = 0.
// Activations: the binarizing sign with the saturating STE (bnn_sign). The paper's per-position
// activation scale K = (mean_c|I|) * k is NOT implemented (skipped: it belongs to the conv layer).
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

// w: rank ≥ 2, f32; channel axis 0.
LOWBIT_API Tensor xnor_weight(const Tensor& w);

// Quantizer "xnor": width 1 only; weights -> xnor_weight, activations -> bnn_sign.
LOWBIT_API std::shared_ptr<Quantizer> make_xnor_quantizer(const QuantConfig& config);

}  // namespace lowbit
