// AQE, the asymptotic-quantized estimator of MINW-Net (spec §5.1–5.2):
//   train: y = α·h(a) + (1 − α)·a, backward dx = 2α·g·1{|a| ≤ 1};  eval: y = h(a).
// h = sign (1 bit, sign(0) = +1), ternary (2 bits, 0 if |a| ≤ Δ) or power-of-two (3 bits, levels
// {0, ±¼, ±½, ±1}, thresholds ⅛, ⅜, ¾). The same rule serves weights and activations.
// The ternary Δ (the paper gives no value, spec §5.2): activations use a fixed Δ = ½ (their inputs
// come from a HardTanh, so ½ is the nearest-level threshold on [−1, 1]); weights use TWN's
// Δ = 0.7·mean|W| over the tensor, recomputed every forward from the current weights (no gradient
// through Δ). A fixed ½ would zero every weight of a net fine-tuned from a float checkpoint, whose
// weights are ~0.05. The 3-bit thresholds stay fixed (they assume weights spread over [−1, 1]).
// α is not learned: it is a buffer (saved in state dicts) that the trainer sets with set_alpha()
// on its schedule. The BinaryConnect weight clip to [−1, 1] after each optimizer step is the
// trainer's job: aqe_clip_weights / aqe_weight_clip_hook below. Per-element math:
// kernels/quant/aqe_math.h.
#pragma once

#include <memory>
#include <vector>

#include "core/optim/optimizer.h"
#include "kernels/quant/aqe_math.h"
#include "quant/quantizer.h"

namespace lowbit {

using quant::AqeLevels;

// Default ternary threshold Δ of activations: ½, the nearest-level threshold between 0 and ±1
// (the paper gives no value; the golden vectors record Δ = 0.5).
inline constexpr float kAqeDefaultDelta = 0.5f;
// Default relative ternary threshold of weights: Δ = 0.7·mean|W| (TWN, Li et al. 2016).
inline constexpr float kAqeDefaultDeltaRel = 0.7f;
// Default α: ½, the only value the paper discusses (it equals the saturating STE).
inline constexpr float kAqeDefaultAlpha = 0.5f;

// The levels h for a bit-width: 1 → sign, 2 → ternary, 3 → pow2; refuses other widths.
LOWBIT_API AqeLevels aqe_levels_for_bits(int bits, QuantTarget target);

// Train forward with α read from the 1-element f32 tensor `alpha` (no gradient goes to α).
LOWBIT_API Tensor aqe_quantize(const Tensor& x, const Tensor& alpha, AqeLevels levels, float delta = kAqeDefaultDelta);
// Eval forward h(x) (not differentiable).
LOWBIT_API Tensor aqe_hard(const Tensor& x, AqeLevels levels, float delta = kAqeDefaultDelta);

// TWN's ternary threshold of a weight tensor: Δ = rel·mean|w| (host value; synchronizes on CUDA).
LOWBIT_API float aqe_relative_delta(const Tensor& w, float rel);

// Options: "alpha" (initial α, default ½); "delta" (fixed ternary Δ in (0, 1); the default for
// activations, ½) or, for weights only, "delta_rel" (Δ = delta_rel·mean|W|, in (0, 2]; the
// default for weights, 0.7). Giving both is refused.
class LOWBIT_API AqeQuantizer : public Quantizer {
 public:
  explicit AqeQuantizer(QuantConfig config);
  Tensor forward(const Tensor& x) override;
  void set_alpha(float alpha);  // 0 ≤ α ≤ 1
  float alpha() const;          // host read (synchronizes on CUDA)
  AqeLevels levels() const { return levels_; }
  bool relative_delta() const { return delta_rel_ > 0.f; }
  float delta() const { return delta_; }          // the fixed Δ (when !relative_delta())
  float delta_rel() const { return delta_rel_; }  // 0 when Δ is fixed
  float delta_for(const Tensor& x) const;         // the Δ this forward uses for x

 private:
  AqeLevels levels_;
  float delta_ = kAqeDefaultDelta;
  float delta_rel_ = 0.f;
  Tensor alpha_;  // 0-d buffer
};

// The BinaryConnect projection after each optimizer step: clamps every weight to [−1, 1].
LOWBIT_API void aqe_clip_weights(const std::vector<Tensor>& weights);
LOWBIT_API Optimizer::Hook aqe_weight_clip_hook(std::vector<Tensor> weights);

// "aqe": weights and activations, 1 (sign), 2 (ternary) or 3 (pow2) bits.
LOWBIT_API std::shared_ptr<Quantizer> make_aqe_quantizer(const QuantConfig& config);

}  // namespace lowbit
