// LSQ, Learned Step Size Quantization (Esser et al., ICLR 2020; spec §6): y = rint(clip(x/s,
// −Q_N, Q_P))·s with a learnable step size s; dx passes strictly inside the clip range; the
// step-size gradient is scaled by g = 1/√(N·Q_P) inside the backward. Signed weights
// (Q_N = 2^(b−1), Q_P = 2^(b−1) − 1) from 2 bits; unsigned activations (Q_N = 0, Q_P = 2^b − 1)
// from 1 bit; up to 8 bits.
#pragma once

#include <memory>

#include "core/export.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit {

struct LsqRange {
  int qn, qp;
};
// Q_N, Q_P for a width and target (weights signed, activations unsigned).
LOWBIT_API LsqRange lsq_range(int bits, QuantTarget target);

// The differentiable LSQ quantizer. s: a 0-d f32 tensor on x's device (read by the kernels from
// device memory). Gradients flow to x and s; ds = grad_scale·Σ g·dy/ds.
LOWBIT_API Tensor lsq_quantize(const Tensor& x, const Tensor& s, int bits, QuantTarget target, double grad_scale);

// N of the gradient scale: numel for weights; the number of features of ONE sample for
// activations (numel / x.size(0) when x has a batch axis, i.e. dim ≥ 2), as the paper's N_F.
LOWBIT_API int64_t lsq_grad_scale_count(const Tensor& x, QuantTarget target);

class LOWBIT_API LsqQuantizer : public Quantizer {
 public:
  explicit LsqQuantizer(const QuantConfig& config);
  // Train mode: lsq_quantize with grad_scale = 1/√(N·Q_P); eval mode: the hard quantizer, not recorded.
  Tensor forward(const Tensor& x) override;
  // s = 2·mean|x|/√Q_P from the first batch; refuses s = 0 (an all-zero batch).
  void initialize(const Tensor& x) override;
  const Tensor& step() const { return s_; }
  LsqRange range() const { return range_; }

 private:
  Tensor s_;
  LsqRange range_;
};

// Refuses widths outside weights 2–8 / activations 1–8, naming the method, target and widths.
LOWBIT_API std::shared_ptr<Quantizer> make_lsq_quantizer(const QuantConfig& config);

}  // namespace lowbit
