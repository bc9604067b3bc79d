// Synchronized batch normalization: batch_norm (core/ops/norm.h) in training mode, normalizing
// with the statistics of the GLOBAL batch, i.e. of every rank's x together, so that a run of N
// processes normalizes as one process with the N local batches concatenated would.
// Forward (two all-reduces of C + 1 and C values, on the device, no host synchronization):
//   local mean m_r and biased variance v_r of n_r rows (the batch_norm kernels), then
//   M = Σ n_r·m_r / N and V = Σ n_r·(v_r + (m_r − M)²) / N with N = Σ n_r (Chan's combination,
//   no cancellation), y = (x − M)·rsqrt(V + eps)·gamma + beta, running statistics updated with M
//   and the unbiased V·N/(N − 1) (identical on every rank).
// Backward: the local sums Σgy and Σgy·xhat (xhat with M and V) are the local gradients of beta
// and gamma (the gradient all-reduce adds them up over the ranks), and their all-reduce gives
//   gx = gamma·rsqrt(V + eps)·(gy − (Σgy + xhat·Σgy·xhat) / N)     (one all-reduce of 2C values),
// which is right when gy is the gradient of the GLOBAL loss (each rank's loss weighted by its
// share of the global batch, as the data-parallel trainer does).
// Every rank must call it at the same point of its forward pass (the same layers in the same
// order), with at least one row; with one rank it needs two. The per-element formulas are the
// batch_norm kernels' (kernels/norm_math.h).
#pragma once

#include <memory>

#include "core/dist/communicator.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::dist {

// x: f32 [N, C] or [N, H, W, C] (channels last); gamma/beta: [C] or undefined (1 and 0);
// running_mean/var: [C] updated in place, or both undefined.
LOWBIT_API Tensor sync_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  const Tensor& running_mean, const Tensor& running_var, float momentum, float eps,
                                  std::shared_ptr<Communicator> comm);

}  // namespace lowbit::dist
