// SAT (spec §4.2–4.4): the DoReFa tanh weight quantizer (original / modified / centered schemes)
// with SAT's constant rescaling Q/√(n_out·Var[Q]), and CG-PACT, the PACT activation quantizer
// with the calibrated clip gradient. Per-element math: kernels/quant/sat_math.h.
//
// Deviations from AdaBits, on purpose:
//  - Eval mode keeps the rescaled weight Q·scale (AdaBits leaves the FC weight unscaled at eval and
//    divides the bias by the scale instead; logits then differ by a global factor only, so the
//    argmax is the same, spec §4.2 [derived]). Here train and eval give the same layer output.
//  - Degenerate tensors, where torch gives NaN/inf: M = max|tanh w| = 0 (all-zero weights) is
//    taken as 1, and std(Q) = 0 (or a single element) as 1 in the rescale.
#pragma once

#include <memory>

#include "kernels/quant/sat_math.h"
#include "quant/quantizer.h"

namespace lowbit {

using quant::SatMaxGrad;
using quant::SatScheme;

struct SatWeightOptions {
  int bits = 2;                                   // 1–8
  SatScheme scheme = SatScheme::modified;         // AdaBits' default for weights
  bool rescale = true;                            // multiply by 1/(√n_out·std(Q))
  int64_t n_out = 1;                              // out_features (FC) or O·kh·kw (conv, OHWI)
  SatMaxGrad max_grad = SatMaxGrad::autograd;     // gradient through M = max|tanh w| (AdaBits)
};

// y = Q(w)·scale. Backward: dw (see sat_math.h). `stats`, when given, receives a 3-element f32
// tensor {M, scale, k} (k = number of elements attaining M) on w's device.
LOWBIT_API Tensor sat_weight_quantize(const Tensor& w, const SatWeightOptions& opt, Tensor* stats = nullptr);

// CG-PACT: y = α·q(min(relu(x), α)/α) with α = |α_p| (α_p a 1-element f32 tensor). Backward:
// dx = g·1{0 < x < α}, dα_p = sign(α_p)·Σ calibrated clip gradient (a 0-d tensor).
LOWBIT_API Tensor cgpact_quantize(const Tensor& x, const Tensor& alpha_p, int bits);

// n_out of a weight: out_features for [out, in]; O·kh·kw for an OHWI conv weight; else dim 0.
LOWBIT_API int64_t sat_n_out(const Shape& weight_shape);

// Weights. Options: "scheme" (0 original, 1 modified, 2 centered; default: centered at 1–2 bits,
// modified from 3 bits — modified's levels {−1, 0} at 1 bit and {−1, −½, 0, ½} at 2 bits are
// lopsided, and AdaBits' author recommends centered at low precision, issue #3, spec §4.8), "max_grad"
// (0 autograd = default, 1 constant as N2D2), "rescale" (FC = rank-2 weights, default 1),
// "rescale_conv" (rank-4 weights, default 0: AdaBits' README/ImageNet; its CIFAR config sets 1).
class LOWBIT_API SatWeightQuantizer : public Quantizer {
 public:
  explicit SatWeightQuantizer(QuantConfig config);
  Tensor forward(const Tensor& w) override;
  SatWeightOptions options_for(const Shape& weight_shape) const;

 private:
  SatScheme scheme_;
  SatMaxGrad max_grad_;
  bool rescale_fc_, rescale_conv_;
};

// Activations (CG-PACT). Learnable clip "alpha" (α_p, 0-d). Its start: the option "alpha_init"
// when given; else initialize() fits it to the first batch (pact_mse_clip, quant/pact.h: AdaBits'
// constants zero every 2-bit activation of a small net); option "clip_init=1" keeps AdaBits'
// constants instead, 8 for conv inputs and 10 for rank-2 (FC) inputs.
class LOWBIT_API CgPactQuantizer : public Quantizer {
 public:
  explicit CgPactQuantizer(QuantConfig config);
  void initialize(const Tensor& x) override;
  Tensor forward(const Tensor& x) override;
  const Tensor& alpha() const { return alpha_; }

 private:
  Parameter alpha_;
  bool adabits_init_ = false;
};

// "sat": weights → SatWeightQuantizer, activations → CgPactQuantizer; both 1–8 bits.
LOWBIT_API std::shared_ptr<Quantizer> make_sat_quantizer(const QuantConfig& config);

}  // namespace lowbit
