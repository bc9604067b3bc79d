// STE baseline (spec §6; Bengio et al. 2013): bits = 1 -> binarizing sign (0 -> +1); bits ≥ 2 ->
// uniform levels on [0, 1] for activations and on [−1, 1] for weights (round half to even).
// Backward: identity (plain STE) or 1{|x| ≤ 1} (saturating STE, as BNN).
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

// The differentiable op. bits in [1, 8]; the target picks the level range ([0, 1] / [−1, 1]).
LOWBIT_API Tensor ste_quantize(const Tensor& x, int bits, QuantTarget target, bool saturate);

// Quantizer "ste": widths 1–8 for weights and activations; option "saturate" (0/1, default 0)
// selects the saturating STE. Train and eval forwards are the same hard quantizer.
LOWBIT_API std::shared_ptr<Quantizer> make_ste_quantizer(const QuantConfig& config);

}  // namespace lowbit
