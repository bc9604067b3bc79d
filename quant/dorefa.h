// DoReFa-Net (Zhou et al. 2016; spec §6; golden dorefa.json), quantize_k(r) = round(n·r)/n with
// n = 2^k − 1 and an identity STE.
//   weights k = 1: y = E·sign(w), E = mean|w| over the tensor (detached), sign(0) = +1, dx = g;
//   weights k ≥ 2: y = 2·quantize_k(tanh(w)/(2·max|tanh w|) + ½) − 1, with the gradient through
//                  max|tanh w| included (ties share it evenly);
//   activations:   y = quantize_k(clamp(x, 0, 1)), dx = g·1{0 ≤ x ≤ 1}.
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

LOWBIT_API Tensor dorefa_weight(const Tensor& w, int bits);      // bits in [1, 8]
LOWBIT_API Tensor dorefa_activation(const Tensor& x, int bits);  // bits in [1, 8]

// Quantizer "dorefa": widths 1–8 for weights and for activations.
LOWBIT_API std::shared_ptr<Quantizer> make_dorefa_quantizer(const QuantConfig& config);

}  // namespace lowbit
