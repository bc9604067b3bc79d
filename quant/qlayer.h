// QuantizedLayer: what QConv2d and QLinear share (a mixin beside their Conv2d/Linear base, not a
// Module itself). A quantized layer computes
//     y = |α| · op(Q_A(x), Q_W(W)) + b        (α only when asked for; op = conv2d or linear)
// with
//   - Q_W, the weight quantizer, child module "wq" (absent when the weight config has 32 bits);
//   - Q_A, the input-activation quantizer, child module "aq" (absent at 32 bits);
//   - α, the learned output scale (EWGS's α, spec §2.1/§2.4; DAQ's s_out, spec §3.1 item 5),
//     parameter "alpha" (0-d), created when either config sets the option "output_scale" to a
//     nonzero value; used through |α| (spec §1), so its gradient carries sign(α).
// Initialization: on the first forward in training mode the layer calls wq->initialize(W) and
// aq->initialize(x) (then never again) and, with an output scale, sets
//     α = mean|op(x, W)| / mean|op(Q_A(x), Q_W(W))|   on that batch (spec §2.4; bias excluded).
// The fact that this happened lives in the buffer "initialized" (0-d f32, 0 or 1), so it is saved
// in state dicts: a layer that loads a state with initialized = 1 never re-initializes (its
// quantizers keep the loaded values), while a state without the key (non-strict load of a float
// checkpoint) or with 0 leaves it to initialize on its first training batch. The buffer is read
// on the host only until it is found set (at most once per training forward until then); a state
// loaded after that point is taken as initialized whatever its flag says.
// Eval-mode forwards never initialize: they use the quantizers' hard (deployment) forward with
// whatever parameters they hold.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/device.h"
#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

// Option key (in either QuantConfig) that asks a quantized layer for the learned output scale α.
inline constexpr const char* kOutputScaleOption = "output_scale";

class LOWBIT_API QuantizedLayer {
 public:
  virtual ~QuantizedLayer();

  Quantizer* weight_quantizer() const { return wq_.get(); }  // null when the weight stays float
  Quantizer* input_quantizer() const { return aq_.get(); }   // null when the input stays float
  const Tensor& output_scale() const { return alpha_; }      // 0-d parameter, undefined unless asked
  bool has_output_scale() const { return alpha_.defined(); }
  // True once the first training batch initialized the layer, or a loaded state says so.
  bool quant_initialized() const;
  // "conv w2 a2 (dorefa)" style summary for logs.
  std::string quant_str() const;

 protected:
  // Builds the quantizers (targets forced to weight / activation; 32 bits = none) on `device`,
  // the output scale (1 until initialized) and the "initialized" buffer. The derived constructor
  // registers them on itself (Module's registration is protected): "wq", "aq", "alpha",
  // "initialized".
  QuantizedLayer(QuantConfig weight, QuantConfig input, Device device);

  // op(a, w, bias) computes the float layer (bias may be undefined).
  using RawOp = std::function<Tensor(const Tensor& a, const Tensor& w, const Tensor& bias)>;
  // The forward of the header comment. `training` is the owning module's training flag.
  Tensor quantized_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training,
                           const RawOp& op);

  std::shared_ptr<Quantizer> wq_, aq_;
  Tensor alpha_;        // output scale (register as "alpha" when defined)
  Tensor initialized_;  // buffer "initialized"

 private:
  void initialize_quantizers(const Tensor& x, const Tensor& weight);
  void initialize_output_scale(const Tensor& x, const Tensor& weight, const Tensor& quantized_out, const RawOp& op);
  mutable bool initialized_seen_ = false;  // host mirror of initialized_ once it is known to be 1
};

}  // namespace lowbit
