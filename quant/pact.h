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

// Data-driven initial clip, for PACT and CG-PACT (SAT). The papers start α at a constant (PACT
// "commonly" 10, AdaBits 8 / 10, spec §4.3, §6), which on a small net puts every activation into
// the zero level at 2 bits; they leave the init free, so we take the α that minimizes the
// quantization error of the first batch x:
//   α = argmin over α_k = top·k/200, k = 1..200, of Σ_b n_b·(c_b − pact(c_b; α_k))²,
// where top = max(x) and n_b, c_b are the counts and centres of a 2048-bin histogram of the
// positive elements of x on (0, top] (non-positive elements quantize to 0 at every α, error 0).
// Returns 1 when x has no positive element. Host computation (x is copied to the host once).
LOWBIT_API float pact_mse_clip(const Tensor& x, int bits);

// Quantizer "pact": activations at widths 1–8, with parameter "alpha": the option "alpha" when
// given (e.g. alpha=10, the usual PACT constant), else pact_mse_clip of the first training batch
// (initialize()). Weights: PACT quantizes weights with DoReFa (spec §6), so a weight config gets
// the DoReFa weight quantizer (widths 1–8).
LOWBIT_API std::shared_ptr<Quantizer> make_pact_quantizer(const QuantConfig& config);

}  // namespace lowbit
