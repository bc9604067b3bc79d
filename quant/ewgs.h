// EWGS (Lee, Kim, Ham, CVPR 2021; spec §2.1, 2.2, 2.4): a learnable interval [l, u], uniform
// quantization of the normalized input to 2^bits levels, and the element-wise gradient scaling
// g·(1 + δ·sign(g)·(x_n − x_q)) in the backward. Weights are de-normalized to [−1, 1] (so
// g_q = 2·g), activations stay in [0, 1]. The layer output scale α belongs to the layer.
// δ is a buffer (not trained): fixed from the config option "delta" (default 1e-3) or set by the
// Hessian-trace estimator through set_delta(). The estimator (quant/hessian_delta.h) reads
// gradients at the quantizer's output through the probe below.
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

inline constexpr double kEwgsDefaultDelta = 1e-3;

// The differentiable EWGS quantizer (train forward + EWGS backward). l, u and delta are 0-d f32
// tensors on x's device (read by the kernels from device memory); gradients flow to x, l and u
// (0-d), never to delta. bits in [1, 8].
LOWBIT_API Tensor ewgs_quantize(const Tensor& x, const Tensor& l, const Tensor& u, const Tensor& delta, int bits,
                                QuantTarget target);
// Same with a host δ (made a 0-d tensor on x's device).
LOWBIT_API Tensor ewgs_quantize(const Tensor& x, const Tensor& l, const Tensor& u, float delta, int bits,
                                QuantTarget target);

class LOWBIT_API EwgsQuantizer : public Quantizer {
 public:
  explicit EwgsQuantizer(const QuantConfig& config);
  // Train mode: ewgs_quantize (EWGS backward); eval mode: the same hard quantizer, not recorded.
  Tensor forward(const Tensor& x) override;
  // Spec §2.4, from the first batch: weights l = −3·std(W), u = 3·std(W); activations
  // l = min(x), u = 3·std(x)/√(1 − 2/π) (std unbiased, as torch.std). Refuses u ≤ l.
  void initialize(const Tensor& x) override;

  void set_delta(float delta);  // δ ≥ 0
  float delta() const;
  const Tensor& lower() const { return l_; }
  const Tensor& upper() const { return u_; }
  const Tensor& delta_buffer() const { return delta_; }

  // Hessian probe for the δ estimator (quant/hessian_delta.h); off by default, train mode only.
  // While on, forward returns y + p where p = probe() is a leaf of y's shape that requires grad
  // (zeros, made on the first forward): p's value perturbs the output, and after a backward p.grad
  // is dL/dy. For ACTIVATIONS the rounding is also frozen: the first forward with the probe on
  // records its input's rounding residual r0 = x_n(x0) − x_q(x0), and the later forwards return
  // the value x_n(x) − r0 (= x_q(x0) + x_n(x) − x_n(x0), continuous in x) with the usual EWGS
  // backward. Finite differences of the gradient then see no jump where a perturbed input crosses
  // a rounding threshold: they differentiate the same linearization that a double backward
  // through the discretizer (whose residual is a saved constant) does. Weights need no freezing:
  // their input, the weight, does not move. Turning the probe off (or on again) drops p and r0.
  void set_probe_enabled(bool on);
  bool probe_enabled() const { return probe_on_; }
  const Tensor& probe() const { return probe_; }  // undefined until a forward with the probe on

 private:
  Tensor probed_forward(const Tensor& x);
  Tensor l_, u_, delta_;
  bool probe_on_ = false;
  Tensor probe_, residual_;
};

// Refuses a width outside 1–8 (naming the method, the target and the allowed widths) and δ < 0.
LOWBIT_API std::shared_ptr<Quantizer> make_ewgs_quantizer(const QuantConfig& config);

}  // namespace lowbit
