// EWGS's gradient-scaling factor δ from the Hessian trace (spec §2.3; paper Sec. 3.2, Eq. 5–10;
// official code CIFAR10/utils.py::update_grad_scales):
//     δ = max(0, mean over batches of  (Tr(H)/N) / (3·std(g) + denom_eps)),
// per EWGS quantizer, with g = dL/dx_q and H = d²L/dx_q² the Hessian w.r.t. the quantizer's
// DISCRETE values x_q (for weights Q_W = 2(x_q − ½), so g = 2·dL/dQ_W and H = 4·H_QW), N = numel,
// std unbiased (torch.std). denom_eps is EWGS issue #6's fix (δ was NaN when g vanished).
//
// Trace: Hutchinson's estimator, Tr(H) ≈ mean_k v_kᵀ H v_k over Rademacher probes v_k. This
// engine has no double backward, so H·v is a central finite difference of the gradient
// (spec §2.3 "framework note", not the paper's method):
//     H·v ≈ [g(x_q + ε v) − g(x_q − ε v)] / (2ε).
// All EWGS quantizers are perturbed at once with independent v's, so one probe costs two forward
// + backward passes whatever the number of quantizers; quantizer i's sample v_iᵀ(H·v)_i contains
// cross terms v_iᵀ H_ij v_j (j ≠ i) of zero mean, so it stays an unbiased estimate of Tr(H_ii)
// (with more variance than the paper's one-quantizer-at-a-time double backward).
// Gradients are read through EwgsQuantizer's probe (a zero leaf added to each output); see
// ewgs.h for how the probe also freezes the activations' rounding so that the perturbed forwards
// are continuous in the perturbation.
//
// The state the estimate runs in, restored afterwards (EwgsHessianProbe):
//   - every module in train mode (BN with batch statistics, quantizers' training forward) except
//     Dropout modules, which are put in eval mode: ±εv forwards must be the same function;
//   - every buffer of the model (BN running statistics, δ's, layers' "initialized" flags) saved
//     and restored: the paper's extra train-mode forwards update BN running stats as a side
//     effect, these don't (a train-mode BN forward reads only batch statistics, so restoring
//     afterwards gives identical ±εv forwards and unchanged running stats);
//   - every EWGS δ set to 0 during the estimate: the Hessian is that of the STE surrogate. The
//     paper's double backward scales downstream paths by (1 + δ·sign(g)(x_n − x_q)), within
//     1 ± δ/(2(2^b − 1)) — negligible — while a nonzero δ would make the finite differences jump
//     where a perturbed activation crosses a rounding threshold;
//   - model parameters set not to require grad (their .grad's are kept untouched), so the
//     backward passes only reach the probes.
// The quantized layers must be initialized (one training forward) before an estimate.
//
// Early stop (official `trace`): after each probe, a quantizer's rule fires when
// |mean_k − mean_{k−1}| / (|mean_{k−1}| + 1e-6) < tol (the code has no |·| in the denominator,
// which stops at once on a negative mean). The loop ends when every quantizer's rule has fired, or
// after max_probes; every quantizer's trace is the mean over all probes drawn (none discarded).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace lowbit {

class EwgsQuantizer;

struct LOWBIT_API DeltaEstimateOptions {
  int max_probes = 50;        // Hutchinson probes per batch at most (official maxIter)
  double tol = 1e-3;          // early-stop relative change of the running mean (official tol)
  // Central-difference step in x_q units, per quantizer: ε = max(fd_rel_step / (2^bits − 1),
  // fd_min_step), i.e. 1e-3 of the level spacing (3.3e-4 at 2 bits), but never below 1e-4. Why:
  // the loss is piecewise smooth in x_q (ReLU/clip kinks; the CE loss and BN are smooth), so the
  // truncation error is O(ε²) and a kink is crossed with probability O(ε): ε should be small.
  // In float32, x_q ± ε is exact to ~6e-8 (half an ulp at 1.0) and the gradient carries relative
  // rounding noise ~1e-6, amplified by 1/ε: 1e-4 keeps the perturbation exact to 6e-4 relative
  // and the noise ~1e-2·|g| per element, which averages out over the N elements of vᵀHv.
  double fd_rel_step = 1e-3;
  double fd_min_step = 1e-4;
  double denom_eps = 1e-8;    // added to 3·std(g) (EWGS issue #6)
  uint64_t seed = 0;          // Rademacher draws
};

// One quantizer's estimate on one batch.
struct LOWBIT_API EwgsDeltaEstimate {
  double trace = 0.0;     // Hutchinson estimate of Tr(H), H w.r.t. x_q
  int64_t numel = 0;      // N
  double grad_std = 0.0;  // std(dL/dx_q), unbiased
  double delta_raw = 0.0; // (trace/N)/(3·grad_std + denom_eps), not clipped
  double delta = 0.0;     // max(0, delta_raw)
  int probes = 0;         // probes drawn (shared by all quantizers)
  double fd_step = 0.0;   // ε used
};

// The probe state of the header comment, entered by the constructor (which also runs the base
// forward + backward) and left by the destructor. Vectors are host float64 copies in x_q units,
// one per EWGS quantizer, in names() order (Module walk order).
class LOWBIT_API EwgsHessianProbe {
 public:
  EwgsHessianProbe(Module& model, std::function<Tensor()> loss_on_batch);
  ~EwgsHessianProbe();
  EwgsHessianProbe(const EwgsHessianProbe&) = delete;
  EwgsHessianProbe& operator=(const EwgsHessianProbe&) = delete;

  using Vecs = std::vector<std::vector<double>>;
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<EwgsQuantizer*>& quantizers() const { return quantizers_; }
  const Vecs& base_gradient() const { return base_grad_; }  // dL/dx_q at the unperturbed point
  // dL/dx_q with every x_q shifted by shift[i] (one forward + backward).
  Vecs gradient(const Vecs& shift);
  // [g(x_q + d) − g(x_q − d)] / 2 ≈ H·d (two forwards + backwards).
  Vecs hessian_direction(const Vecs& d);

 private:
  struct Saved;
  void restore();
  std::unique_ptr<Saved> saved_;
  std::function<Tensor()> loss_;
  std::vector<std::string> names_;
  std::vector<EwgsQuantizer*> quantizers_;
  Vecs base_grad_;
};

// Per EWGS quantizer (dotted module name), the estimate on the batch loss_on_batch evaluates
// (a forward on a fixed batch returning the scalar loss). Refuses a model without EWGS quantizers
// or with uninitialized quantized layers.
LOWBIT_API std::map<std::string, EwgsDeltaEstimate> estimate_ewgs_hessian(
    Module& model, const std::function<Tensor()>& loss_on_batch, const DeltaEstimateOptions& options);
// The same, reduced to δ_batch = max(0, delta_raw) per quantizer.
LOWBIT_API std::map<std::string, double> estimate_ewgs_deltas(Module& model,
                                                              const std::function<Tensor()>& loss_on_batch,
                                                              const DeltaEstimateOptions& options);
// The paper's update (3 batches of 256 on CIFAR-10, 10 of 16 on ImageNet): δ_batch on each batch
// (unclipped), averaged over the batches, then clipped at 0 (as the official code) and set on
// each EWGS quantizer (set_delta). Batch b draws its probes from seed + b. Returns the δ's set.
LOWBIT_API std::map<std::string, double> update_ewgs_deltas(
    Module& model, const std::vector<std::function<Tensor()>>& batches, const DeltaEstimateOptions& options);

}  // namespace lowbit
