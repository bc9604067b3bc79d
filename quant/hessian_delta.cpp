// EWGS δ from the Hessian trace: the probe state (save / set / restore), finite-difference
// Hessian-direction products through the quantizers' probes, Hutchinson's estimator and the
// multi-batch update. See hessian_delta.h.
#include "quant/hessian_delta.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/autograd.h"
#include "core/error.h"
#include "layers/dropout.h"
#include "quant/ewgs.h"
#include "quant/qfactory.h"

namespace lowbit {

struct EwgsHessianProbe::Saved {
  std::vector<std::pair<Tensor, Tensor>> buffers;        // (live buffer, copy)
  std::vector<std::pair<Module*, bool>> training;        // walk order: parents before children
  std::vector<std::pair<Tensor, bool>> requires_grad;    // parameters
};

namespace {

// Output units per x_q unit: Q_W = 2(x_q − ½) for weights, Q_A = x_q for activations.
double output_scale(const EwgsQuantizer* q) { return q->is_weight() ? 2.0 : 1.0; }

}  // namespace

EwgsHessianProbe::EwgsHessianProbe(Module& model, std::function<Tensor()> loss_on_batch)
    : saved_(std::make_unique<Saved>()), loss_(std::move(loss_on_batch)) {
  for (auto& [name, q] : lowbit::quantizers(model))
    if (auto* e = dynamic_cast<EwgsQuantizer*>(q)) {
      names_.push_back(name);
      quantizers_.push_back(e);
    }
  LOWBIT_CHECK(!quantizers_.empty(), "EWGS Hessian estimate: the model has no EWGS quantizer");
  for (auto& [name, layer] : quantized_layers(model))
    LOWBIT_CHECK(layer->quant_initialized(), "EWGS Hessian estimate: quantized layer '", name,
                 "' is not initialized yet (run one training forward first)");

  // Save, then enter the probe state (header comment).
  {
    NoGradGuard no_grad;
    for (auto& [name, t] : model.named_buffers()) saved_->buffers.emplace_back(t, t.detach().clone());
  }
  for (auto& [name, m] : model.named_modules()) saved_->training.emplace_back(m, m->is_training());
  for (const Tensor& p : model.parameters()) saved_->requires_grad.emplace_back(p, p.requires_grad());
  model.train(true);
  for (auto& [name, m] : model.named_modules())
    if (dynamic_cast<Dropout*>(m)) m->train(false);
  for (auto& [p, rg] : saved_->requires_grad) p.requires_grad_(false);
  for (EwgsQuantizer* q : quantizers_) {
    q->set_delta(0.f);
    q->set_probe_enabled(true);
  }

  // Base forward (it fixes the activations' rounding residuals) + backward.
  try {
    base_grad_ = gradient({});
  } catch (...) {
    restore();
    throw;
  }
}

EwgsHessianProbe::~EwgsHessianProbe() { restore(); }

void EwgsHessianProbe::restore() {
  for (EwgsQuantizer* q : quantizers_) q->set_probe_enabled(false);
  for (auto& [p, rg] : saved_->requires_grad) p.requires_grad_(rg);
  for (auto& [m, on] : saved_->training) m->train(on);
  NoGradGuard no_grad;
  for (auto& [live, copy] : saved_->buffers) live.copy_(copy);
}

EwgsHessianProbe::Vecs EwgsHessianProbe::gradient(const Vecs& shift) {
  const size_t n = quantizers_.size();
  const bool base = shift.empty();
  LOWBIT_CHECK(base || shift.size() == n, "EWGS Hessian probe: ", shift.size(), " shifts for ", n, " quantizers");
  if (!base) {
    NoGradGuard no_grad;
    for (size_t i = 0; i < n; ++i) {
      Tensor p = quantizers_[i]->probe();
      LOWBIT_CHECK(static_cast<int64_t>(shift[i].size()) == p.numel(), "EWGS Hessian probe: shift for '", names_[i],
                   "' has ", shift[i].size(), " elements, the output has ", p.numel());
      std::vector<float> host(shift[i].size());
      const double s = output_scale(quantizers_[i]);
      for (size_t j = 0; j < host.size(); ++j) host[j] = static_cast<float>(s * shift[i][j]);
      p.copy_(Tensor::from_vector(host, p.shape()));
    }
  }
  for (EwgsQuantizer* q : quantizers_)
    if (q->probe().defined()) q->probe().zero_grad();

  Tensor loss = loss_();
  LOWBIT_CHECK(loss.defined() && loss.numel() == 1, "EWGS Hessian probe: loss_on_batch must return a scalar, got ",
               loss.defined() ? shape_str(loss.shape()) : "undefined");
  LOWBIT_CHECK(loss.requires_grad(), "EWGS Hessian probe: the loss does not depend on any EWGS quantizer output");
  loss.backward();

  Vecs g(n);
  for (size_t i = 0; i < n; ++i) {
    const Tensor& p = quantizers_[i]->probe();
    LOWBIT_CHECK(p.defined(), "EWGS Hessian probe: quantizer '", names_[i], "' was not used by loss_on_batch");
    const Tensor pg = p.grad();
    g[i].assign(static_cast<size_t>(p.numel()), 0.0);  // no gradient reached it: dL/dx_q = 0
    if (!pg.defined()) continue;
    const std::vector<float> host = pg.to_vector();
    const double s = output_scale(quantizers_[i]);  // dL/dx_q = s · dL/dQ
    for (size_t j = 0; j < host.size(); ++j) g[i][j] = s * host[j];
  }
  return g;
}

EwgsHessianProbe::Vecs EwgsHessianProbe::hessian_direction(const Vecs& d) {
  Vecs minus(d);
  for (auto& v : minus)
    for (double& x : v) x = -x;
  Vecs gp = gradient(d);
  Vecs gm = gradient(minus);
  for (size_t i = 0; i < gp.size(); ++i)
    for (size_t j = 0; j < gp[i].size(); ++j) gp[i][j] = 0.5 * (gp[i][j] - gm[i][j]);
  return gp;
}

namespace {

double unbiased_std(const std::vector<double>& g) {
  const size_t n = g.size();
  if (n < 2) return 0.0;
  double mean = 0.0;
  for (double x : g) mean += x;
  mean /= static_cast<double>(n);
  double ss = 0.0;
  for (double x : g) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(n - 1));
}

std::map<std::string, EwgsDeltaEstimate> estimate_with_seed(Module& model, const std::function<Tensor()>& loss,
                                                             const DeltaEstimateOptions& o, uint64_t seed) {
  LOWBIT_CHECK(o.max_probes >= 1, "EWGS Hessian estimate: max_probes must be >= 1, got ", o.max_probes);
  LOWBIT_CHECK(o.fd_rel_step > 0.0 && o.fd_min_step >= 0.0 && o.denom_eps >= 0.0 && o.tol >= 0.0,
               "EWGS Hessian estimate: fd_rel_step (", o.fd_rel_step, ") must be > 0 and fd_min_step (", o.fd_min_step,
               "), denom_eps (", o.denom_eps, "), tol (", o.tol, ") >= 0");
  EwgsHessianProbe probe(model, loss);
  const size_t n = probe.quantizers().size();
  std::vector<double> eps(n), sum(n, 0.0), prev(n, 0.0);
  std::vector<bool> fired(n, false);
  for (size_t i = 0; i < n; ++i) {
    const int levels_m1 = (1 << probe.quantizers()[i]->bits()) - 1;
    eps[i] = std::max(o.fd_rel_step / levels_m1, o.fd_min_step);
  }

  Generator gen(seed);
  int k = 0;
  while (k < o.max_probes) {
    ++k;
    EwgsHessianProbe::Vecs v(n), d(n);
    for (size_t i = 0; i < n; ++i) {
      const size_t m = probe.base_gradient()[i].size();
      const std::vector<float> u = Tensor::rand({static_cast<int64_t>(m)}, Device::cpu(), &gen).to_vector();
      v[i].resize(m);
      d[i].resize(m);
      for (size_t j = 0; j < m; ++j) {
        v[i][j] = u[j] < 0.5f ? -1.0 : 1.0;
        d[i][j] = eps[i] * v[i][j];
      }
    }
    const EwgsHessianProbe::Vecs hd = probe.hessian_direction(d);  // ≈ H·(ε v)
    bool all = true;
    for (size_t i = 0; i < n; ++i) {
      double vhv = 0.0;
      for (size_t j = 0; j < v[i].size(); ++j) vhv += v[i][j] * hd[i][j];
      sum[i] += vhv / eps[i];
      const double mean = sum[i] / k;
      if (std::abs(mean - prev[i]) / (std::abs(prev[i]) + 1e-6) < o.tol) fired[i] = true;
      prev[i] = mean;
      all = all && fired[i];
    }
    if (all) break;
  }

  std::map<std::string, EwgsDeltaEstimate> out;
  for (size_t i = 0; i < n; ++i) {
    EwgsDeltaEstimate e;
    e.numel = static_cast<int64_t>(probe.base_gradient()[i].size());
    e.trace = sum[i] / k;
    e.grad_std = unbiased_std(probe.base_gradient()[i]);
    e.delta_raw = (e.trace / static_cast<double>(e.numel)) / (3.0 * e.grad_std + o.denom_eps);
    e.delta = std::max(0.0, e.delta_raw);
    e.probes = k;
    e.fd_step = eps[i];
    out[probe.names()[i]] = e;
  }
  return out;
}

}  // namespace

std::map<std::string, EwgsDeltaEstimate> estimate_ewgs_hessian(Module& model,
                                                               const std::function<Tensor()>& loss_on_batch,
                                                               const DeltaEstimateOptions& options) {
  return estimate_with_seed(model, loss_on_batch, options, options.seed);
}

std::map<std::string, double> estimate_ewgs_deltas(Module& model, const std::function<Tensor()>& loss_on_batch,
                                                   const DeltaEstimateOptions& options) {
  std::map<std::string, double> out;
  for (auto& [name, e] : estimate_ewgs_hessian(model, loss_on_batch, options)) out[name] = e.delta;
  return out;
}

std::map<std::string, double> update_ewgs_deltas(Module& model, const std::vector<std::function<Tensor()>>& batches,
                                                 const DeltaEstimateOptions& options) {
  LOWBIT_CHECK(!batches.empty(), "update_ewgs_deltas: no batches");
  std::map<std::string, double> mean;
  for (size_t b = 0; b < batches.size(); ++b)
    for (auto& [name, e] : estimate_with_seed(model, batches[b], options, options.seed + b))
      mean[name] += e.delta_raw / static_cast<double>(batches.size());
  std::map<std::string, EwgsQuantizer*> by_name;
  for (auto& [name, q] : lowbit::quantizers(model))
    if (auto* e = dynamic_cast<EwgsQuantizer*>(q)) by_name[name] = e;
  for (auto& [name, d] : mean) {
    d = std::max(0.0, d);
    LOWBIT_CHECK(std::isfinite(d), "update_ewgs_deltas: δ for '", name, "' is not finite (", d, ")");
    by_name.at(name)->set_delta(static_cast<float>(d));
  }
  return mean;
}

}  // namespace lowbit
