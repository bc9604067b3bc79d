// PACT (Choi et al. 2018; spec §6; golden sat.json, variant act_pact_plain): a learnable clip
// α = |α_p| per tensor,
//   y = α·round_half_even((2^k − 1)·clip(x, 0, α)/α)/(2^k − 1),
//   dx = g·1{0 < x < α} (strict at both ends, as the vectors' AdaBits convention),
//   dα_p = sign(α_p)·Σ g·1{x ≥ α}   (plain PACT; SAT's CG-PACT calibrates this term).
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

// alpha_p: a one-element f32 tensor (0-d) on x's device; bits in [1, 8]. α_p must be nonzero.
LOWBIT_API Tensor pact_quantize(const Tensor& x, const Tensor& alpha_p, int bits);

// Quantizer "pact": activations at widths 1–8, with parameter "alpha" (option "alpha", default
// 10, the usual PACT initialization). Weights: PACT quantizes weights with DoReFa (spec §6), so a
// weight config gets the DoReFa weight quantizer (widths 1–8).
LOWBIT_API std::shared_ptr<Quantizer> make_pact_quantizer(const QuantConfig& config);

}  // namespace lowbit
