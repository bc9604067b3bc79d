// DAQ — distance-aware quantization (Kim, Lee, Ham, ICCV 2021; spec §3): weight
// standardization, distance-aware soft rounding over the two neighbouring levels with the
// temperature controller β* = γ/|s0 − s1| and the output rescaling that makes the training
// forward equal the hard rounding, and the closed-form backward of spec §3.2. Per tensor:
// weights learn (l, u), initialized to (−3, 3); activations learn u (3·std of the first batch)
// with l ≡ 0 fixed (a buffer). γ = 2; kernel σ = 1 for weights, 2 for activations (options
// "gamma", "sigma"). The layer's output scale s (spec §3.1 item 5) belongs to QConv2d/QLinear.
// Widths: 1–8 bits for weights and activations. A constant weight tensor (std = 0) gives
// non-finite x̂, as in the official code (the statistics stay on the device, unchecked).
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

inline constexpr double kDaqGamma = 2.0;
LOWBIT_API double daq_default_sigma(QuantTarget target);  // 1 (weights), 2 (activations)

// {mean, unbiased std} of the whole tensor as a 2-element f32 tensor on w's device (no grad;
// on CUDA computed on the device without host synchronization). w needs ≥ 2 elements.
LOWBIT_API Tensor daq_weight_stats(const Tensor& w);

// Training forward (differentiable in x, l, u; l and u are one-element f32 tensors on x's
// device). Weights are standardized first (detached statistics); activations are not.
LOWBIT_API Tensor daq_quantize(const Tensor& x, const Tensor& l, const Tensor& u, int bits, QuantTarget target,
                               double gamma = kDaqGamma, double sigma = 0.0 /* 0: the target's default */);
// Eval forward: the official hard quantizer (clip, floor + round of the fraction; not recorded).
LOWBIT_API Tensor daq_quantize_eval(const Tensor& x, const Tensor& l, const Tensor& u, int bits, QuantTarget target);

class LOWBIT_API DaqQuantizer : public Quantizer {
 public:
  explicit DaqQuantizer(QuantConfig config);
  // Train mode: daq_quantize; eval mode: daq_quantize_eval. Initializes itself on the first
  // training batch if the layer has not.
  Tensor forward(const Tensor& x) override;
  // Activations: u = 3·std(x) (unbiased, whole tensor including zeros). Weights: nothing.
  void initialize(const Tensor& x) override;
  const Tensor& lower() const { return l_; }
  const Tensor& upper() const { return u_; }
  double gamma() const { return gamma_; }
  double sigma() const { return sigma_; }

 private:
  Tensor l_, u_;
  double gamma_, sigma_;
};

// Refuses widths outside 1–8, naming the method, the target and the widths allowed.
LOWBIT_API std::shared_ptr<Quantizer> make_daq_quantizer(const QuantConfig& config);

}  // namespace lowbit
