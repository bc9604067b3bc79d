// The fused-quantizer cases shared by bench/bench_quant.cpp (CPU) and bench/bench_cuda_quant.cpp
// (CUDA): per method, its parameters, the differentiable op, the float64 reference of
// tests/reference/quant_*.h, and the memory floor; plus the inputs, one run of forward + backward
// node, and the comparison used to validate a run before it is timed.
//
// Every case runs on x of shape [rows, kCols] (a weight with `rows` output channels of kCols
// inputs), x uniform in [−1.5, 1.5] (both sides of every clip range below), and the fixed upstream
// gradient g uniform in [−1, 1]. The backward timed is the op's own autograd node applied to g
// (the gradient of sum(y·g)), as the engine would call it; no loss, no leaf accumulation.
#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"
#include "quant/aqe.h"
#include "quant/bnn.h"
#include "quant/daq.h"
#include "quant/dorefa.h"
#include "quant/ewgs.h"
#include "quant/lsq.h"
#include "quant/pact.h"
#include "quant/sat.h"
#include "quant/xnor.h"
#include "tests/reference/quant_aqe.h"
#include "tests/reference/quant_baseline.h"
#include "tests/reference/quant_daq.h"
#include "tests/reference/quant_ewgs.h"
#include "tests/reference/quant_lsq.h"
#include "tests/reference/quant_sat.h"

namespace lowbit::qbench {

inline constexpr int64_t kCols = 1024;  // the inner (fan-in) axis; rows = N / kCols channels

// y, dx and the scalar parameter gradients (in the op's input order) of one run.
struct Run {
  std::vector<double> y, dx, dparams;
};

struct QuantCase {
  const char* name;
  int reduction_passes;  // tensor-wide statistics read x once more each (4 B per element)
  int param_grads;       // learned scalars whose gradients the node returns after dx
  std::function<std::vector<Tensor>(Device)> params;  // 0-d f32 tensors; learned ones require grad
  std::function<Tensor(const Tensor& x, const std::vector<Tensor>& p)> op;
  std::function<Run(const ref::Arr& x, const ref::Arr& g)> reference;
};

// The memory floor in bytes per element: forward reads x and writes y (8 B); forward + backward
// adds reading x and g and writing dx (12 B); each reduction pass reads x once more (4 B).
inline double floor_bytes_per_element(const QuantCase& c, bool backward) {
  return (backward ? 20.0 : 8.0) + 4.0 * c.reduction_passes;
}

inline Tensor scalar_param(float v, Device dev, bool learned) {
  Tensor t = Tensor::full({}, v, DType::f32, dev);
  if (learned) t.requires_grad_();
  return t;
}

inline Run from_ref(const ref::Arr& y, const ref::Arr& dx, std::vector<double> dparams = {}) {
  return Run{y.v, dx.v, std::move(dparams)};
}

// The ten methods at a representative width (4 bits where the method has a choice; AQE 3 bits =
// power-of-two levels; BNN and XNOR 1 bit). Weight-target methods quantize x as a weight.
inline const std::vector<QuantCase>& quant_cases() {
  using QT = QuantTarget;
  static const std::vector<QuantCase> cases = {
      {"ewgs", 0, 2,  // weights, [l, u] = [−0.8, 0.7], δ = 1e-3
       [](Device d) { return std::vector<Tensor>{scalar_param(-0.8f, d, true), scalar_param(0.7f, d, true)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) { return ewgs_quantize(x, p[0], p[1], 1e-3f, 4, QT::weight); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::EwgsResult r = ref::ewgs(x, g, -0.8f, 0.7f, 1e-3f, 4, true);
         return from_ref(r.y, r.dx, {r.dl, r.du});
       }},
      {"lsq", 0, 1,  // weights (Q_N = 8, Q_P = 7), s = 0.15, grad scale 1/√(N·Q_P)
       [](Device d) { return std::vector<Tensor>{scalar_param(0.15f, d, true)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return lsq_quantize(x, p[0], 4, QT::weight, 1.0 / std::sqrt(7.0 * static_cast<double>(x.numel())));
       },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::LsqResult r = ref::lsq(x, g, 0.15f, 4, true, 1.0 / std::sqrt(7.0 * static_cast<double>(x.v.size())));
         return from_ref(r.y, r.dx, {r.ds});
       }},
      {"daq_weight", 1, 2,  // weight standardization stats, (l, u) = (−3, 3), γ = 2, σ = 1
       [](Device d) { return std::vector<Tensor>{scalar_param(-3.f, d, true), scalar_param(3.f, d, true)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) { return daq_quantize(x, p[0], p[1], 4, QT::weight); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::DaqRef r = ref::daq(x.v, g.v, -3.0, 3.0, 4, true, kDaqGamma, daq_default_sigma(QT::weight));
         return Run{r.y, r.dx, {r.dl, r.du}};
       }},
      {"sat_weight", 2, 0,  // max|tanh w| and Var[Q]; modified scheme, rescaled, n_out = rows
       [](Device) { return std::vector<Tensor>{}; },
       [](const Tensor& x, const std::vector<Tensor>&) {
         SatWeightOptions o;
         o.bits = 4;
         o.n_out = sat_n_out(x.shape());
         return sat_weight_quantize(x, o);
       },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::SatWeightResult r = ref::sat_weight(x, g, 4, /*modified*/ 1, true, x.shape[0], true);
         return from_ref(r.y, r.dx);
       }},
      {"cgpact", 0, 1,  // α_p = 1
       [](Device d) { return std::vector<Tensor>{scalar_param(1.f, d, true)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) { return cgpact_quantize(x, p[0], 4); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::CgPactResult r = ref::cgpact(x, g, 1.0, 4);
         return from_ref(r.y, r.dx, {r.dalpha});
       }},
      {"aqe", 0, 0,  // power-of-two levels (3 bits), α = ½ (a buffer, no gradient)
       [](Device d) { return std::vector<Tensor>{scalar_param(0.5f, d, false)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) { return aqe_quantize(x, p[0], AqeLevels::pow2); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::AqeResult r = ref::aqe(x, g, 0.5, "pow2", kAqeDefaultDelta);
         return from_ref(r.y, r.dx);
       }},
      {"dorefa_weight", 1, 0,  // max|tanh w|
       [](Device) { return std::vector<Tensor>{}; },
       [](const Tensor& x, const std::vector<Tensor>&) { return dorefa_weight(x, 4); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::QuantResult r = ref::dorefa_weight_quant(x, g, 4);
         return from_ref(r.y, r.dx);
       }},
      {"pact", 0, 1,  // α_p = 1
       [](Device d) { return std::vector<Tensor>{scalar_param(1.f, d, true)}; },
       [](const Tensor& x, const std::vector<Tensor>& p) { return pact_quantize(x, p[0], 4); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::QuantResult r = ref::pact_quant(x, g, 1.0, 4);
         return from_ref(r.y, r.dx, {r.dparam});
       }},
      {"bnn", 0, 0,  // sign, saturating STE
       [](Device) { return std::vector<Tensor>{}; },
       [](const Tensor& x, const std::vector<Tensor>&) { return bnn_sign(x); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::QuantResult r = ref::ste_quant(x, g, 1, 0.0, true);
         return from_ref(r.y, r.dx);
       }},
      // per-channel α = mean|W_c| over each row: a row (4 KB) is reduced and written while it is in
      // registers or cache, so no pass over the tensor is forced (0)
      {"xnor_weight", 0, 0,
       [](Device) { return std::vector<Tensor>{}; },
       [](const Tensor& x, const std::vector<Tensor>&) { return xnor_weight(x); },
       [](const ref::Arr& x, const ref::Arr& g) {
         ref::QuantResult r = ref::xnor_weight_quant(x, g);
         return from_ref(r.y, r.dx);
       }},
  };
  return cases;
}

// Element i of a fixed pseudo-random sequence, uniform in [lo, hi) (splitmix64 of seed + i):
// cheap enough to fill 64 M elements, the same on every machine.
inline float uniform_at(uint64_t i, uint64_t seed, float lo, float hi) {
  uint64_t z = (seed << 40) + i + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return lo + (hi - lo) * static_cast<float>(static_cast<double>(z >> 11) * 0x1p-53);
}

inline std::vector<float> uniform_vector(int64_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = uniform_at(static_cast<uint64_t>(i), seed, lo, hi);
  return v;
}
inline std::vector<float> x_values(int64_t n) { return uniform_vector(n, 1, -1.5f, 1.5f); }
inline std::vector<float> g_values(int64_t n) { return uniform_vector(n, 2, -1.f, 1.f); }

// One training step of the op: the recorded forward, then its node applied to g with grad mode
// off (as the engine runs it). Returns {dx, dparams...} in the op's input order.
inline std::vector<Tensor> forward_backward(const QuantCase& c, const Tensor& x, const std::vector<Tensor>& p,
                                            const Tensor& g, Tensor* y_out = nullptr) {
  Tensor y = c.op(x, p);
  LOWBIT_CHECK(y.grad_fn() != nullptr, "qbench: ", c.name, " recorded no backward node");
  NoGradGuard no_grad;
  std::vector<Tensor> grads = y.grad_fn()->apply(g);
  if (y_out) *y_out = y;
  return grads;
}

// The op on host values x, g of `shape`, on `dev`: y, dx and the parameter gradients.
inline Run run_op(const QuantCase& c, const std::vector<float>& x, const std::vector<float>& g, const Shape& shape,
                  Device dev) {
  Tensor xt = Tensor::from_vector(x, shape, dev).requires_grad_();
  Tensor y;
  std::vector<Tensor> grads = forward_backward(c, xt, c.params(dev), Tensor::from_vector(g, shape, dev), &y);
  LOWBIT_CHECK(static_cast<int>(grads.size()) >= 1 + c.param_grads, "qbench: ", c.name, " returned ",
               grads.size(), " gradients");
  Run r;
  for (float v : y.to_vector()) r.y.push_back(v);
  for (float v : grads[0].to_vector()) r.dx.push_back(v);
  for (int i = 0; i < c.param_grads; ++i) r.dparams.push_back(grads[1 + static_cast<size_t>(i)].item());
  return r;
}

// Empty when `got` matches `want`: every y and dx element within tol·(1 + |want|) except at most
// max_bad of each (elements within rounding of a decision point may take the other branch), and
// each parameter gradient within tol·(1 + |want|) + param_atol. Else the first failure.
inline std::string compare_runs(const Run& want, const Run& got, double tol, int64_t max_bad, double param_atol) {
  auto elements = [&](const std::vector<double>& w, const std::vector<double>& o, const char* what) -> std::string {
    if (w.size() != o.size()) return std::string(what) + ": " + std::to_string(o.size()) + " elements, want " +
                                     std::to_string(w.size());
    int64_t bad = 0;
    size_t first = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (!(std::abs(o[i] - w[i]) <= tol * (1.0 + std::abs(w[i])))) {
        if (bad++ == 0) first = i;
      }
    }
    if (bad <= max_bad) return "";
    std::ostringstream os;
    os << what << ": " << bad << " elements differ (at most " << max_bad << " allowed); first [" << first
       << "] got " << o[first] << ", want " << w[first];
    return os.str();
  };
  if (std::string e = elements(want.y, got.y, "y"); !e.empty()) return e;
  if (std::string e = elements(want.dx, got.dx, "dx"); !e.empty()) return e;
  if (want.dparams.size() != got.dparams.size()) return "parameter gradient count differs";
  for (size_t i = 0; i < want.dparams.size(); ++i) {
    double w = want.dparams[i], o = got.dparams[i];
    if (!(std::abs(o - w) <= tol * (1.0 + std::abs(w)) + param_atol)) {
      std::ostringstream os;
      os << "parameter gradient " << i << ": got " << o << ", want " << w;
      return os.str();
    }
  }
  return "";
}

// Registers "<prefix>/copy" first, then "<prefix>/<method>/fwd" and ".../fwd_bwd" for every case
// (manual time, in `unit`). Returns true so a file can register at static-initialization time.
inline bool register_quant_benchmarks(const std::string& prefix, void (*copy)(benchmark::State&),
                                      void (*quant)(benchmark::State&, const QuantCase*, bool),
                                      benchmark::TimeUnit unit) {
  benchmark::RegisterBenchmark((prefix + "/copy").c_str(), copy)->UseManualTime()->Unit(unit);
  for (const QuantCase& c : quant_cases())
    for (bool backward : {false, true}) {
      std::string name = prefix + "/" + c.name + (backward ? "/fwd_bwd" : "/fwd");
      benchmark::RegisterBenchmark(name.c_str(), quant, &c, backward)->UseManualTime()->Unit(unit);
    }
  return true;
}

}  // namespace lowbit::qbench
