// AQE, the asymptotic-quantized estimator of MINW-Net (spec §5.1–5.2):
//   train: y = α·h(a) + (1 − α)·a, backward dx = 2α·g·1{|a| ≤ 1};  eval: y = h(a).
// h = sign (1 bit, sign(0) = +1), ternary (2 bits, 0 if |a| ≤ Δ) or power-of-two (3 bits, levels
// {0, ±¼, ±½, ±1}, thresholds ⅛, ⅜, ¾). The same rule serves weights and activations.
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

// Default ternary threshold Δ: ½, the nearest-level threshold between 0 and ±1 (the paper gives
// no value; the golden vectors record Δ = 0.5).
inline constexpr float kAqeDefaultDelta = 0.5f;
// Default α: ½, the only value the paper discusses (it equals the saturating STE).
inline constexpr float kAqeDefaultAlpha = 0.5f;

// The levels h for a bit-width: 1 → sign, 2 → ternary, 3 → pow2; refuses other widths.
LOWBIT_API AqeLevels aqe_levels_for_bits(int bits, QuantTarget target);

// Train forward with α read from the 1-element f32 tensor `alpha` (no gradient goes to α).
LOWBIT_API Tensor aqe_quantize(const Tensor& x, const Tensor& alpha, AqeLevels levels, float delta = kAqeDefaultDelta);
// Eval forward h(x) (not differentiable).
LOWBIT_API Tensor aqe_hard(const Tensor& x, AqeLevels levels, float delta = kAqeDefaultDelta);

// Options: "alpha" (initial α, default ½), "delta" (ternary Δ, default ½).
class LOWBIT_API AqeQuantizer : public Quantizer {
 public:
  explicit AqeQuantizer(QuantConfig config);
  Tensor forward(const Tensor& x) override;
  void set_alpha(float alpha);  // 0 ≤ α ≤ 1
  float alpha() const;          // host read (synchronizes on CUDA)
  AqeLevels levels() const { return levels_; }
  float delta() const { return delta_; }

 private:
  AqeLevels levels_;
  float delta_;
  Tensor alpha_;  // 0-d buffer
};

// The BinaryConnect projection after each optimizer step: clamps every weight to [−1, 1].
LOWBIT_API void aqe_clip_weights(const std::vector<Tensor>& weights);
LOWBIT_API Optimizer::Hook aqe_weight_clip_hook(std::vector<Tensor> weights);

// "aqe": weights and activations, 1 (sign), 2 (ternary) or 3 (pow2) bits.
LOWBIT_API std::shared_ptr<Quantizer> make_aqe_quantizer(const QuantConfig& config);

}  // namespace lowbit
