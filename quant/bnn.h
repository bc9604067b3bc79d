// BNN (Courbariaux/Hubara et al. 2016; spec §6): deterministic binarizing sign (0 -> +1) with the
// saturating STE dx = g·1{|x| ≤ 1}, for weights and activations alike. The latent-weight clip to
// [−1, 1] after every update is the optimizer's/trainer's job, not the quantizer's.
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

// y = sign(x) with sign(0) = +1; dx = g·1{|x| ≤ 1} (inclusive).
LOWBIT_API Tensor bnn_sign(const Tensor& x);

// Quantizer "bnn": width 1 only, weights and activations.
LOWBIT_API std::shared_ptr<Quantizer> make_bnn_quantizer(const QuantConfig& config);

}  // namespace lowbit
