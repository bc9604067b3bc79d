// Float64 reference of the SAT weight quantizer and CG-PACT: plain loops in double.
#include "tests/reference/quant_sat.h"

#include <algorithm>
#include <cmath>

namespace lowbit::ref {

namespace {

double level(double u, int bits, int scheme) {
  const double two_b = std::ldexp(1.0, bits);
  if (scheme == 0) return std::nearbyint((two_b - 1.0) * u) / (two_b - 1.0);  // half to even
  const double k = std::min(std::floor(two_b * u), two_b - 1.0);
  return scheme == 1 ? k / two_b : (k + 0.5) / two_b;
}

}  // namespace

SatWeightResult sat_weight(const Arr& w, const Arr& g, int bits, int scheme, bool rescale, int64_t n_out,
                           bool autograd_max) {
  const size_t n = w.v.size();
  SatWeightResult r{make(w.shape), make(w.shape), make(w.shape)};
  std::vector<double> t(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = std::tanh(w.v[i]);
    r.M = std::max(r.M, std::abs(t[i]));
  }
  if (r.M == 0.0) r.M = 1.0;
  double mean = 0.0;
  for (size_t i = 0; i < n; ++i) {
    r.Q.v[i] = 2.0 * level((t[i] / r.M + 1.0) / 2.0, bits, scheme) - 1.0;
    mean += r.Q.v[i];
  }
  mean /= static_cast<double>(n);
  if (rescale) {
    double ss = 0.0;
    for (size_t i = 0; i < n; ++i) ss += (r.Q.v[i] - mean) * (r.Q.v[i] - mean);
    const double sd = n > 1 && ss > 0.0 ? std::sqrt(ss / static_cast<double>(n - 1)) : 1.0;
    r.scale = 1.0 / (std::sqrt(static_cast<double>(n_out)) * sd);
  }
  // dL/dQ = g·scale; dQ/dt = 1/M (the 2 and ½ cancel); dQ/dM = −t/M²; dt/dw = 1 − t².
  double dM = 0.0;
  int ties = 0;
  for (size_t i = 0; i < n; ++i) {
    r.y.v[i] = r.Q.v[i] * r.scale;
    dM += -g.v[i] * r.scale * t[i] / (r.M * r.M);
    if (std::abs(t[i]) == r.M) ++ties;
  }
  for (size_t i = 0; i < n; ++i) {
    const double dt = 1.0 - t[i] * t[i];
    r.dx.v[i] = g.v[i] * r.scale / r.M * dt;
    if (autograd_max && std::abs(t[i]) == r.M) {
      const double sgn = t[i] > 0 ? 1.0 : (t[i] < 0 ? -1.0 : 0.0);
      r.dx.v[i] += dM / ties * sgn * dt;
    }
  }
  return r;
}

CgPactResult cgpact(const Arr& x, const Arr& g, double alpha_p, int bits) {
  const double alpha = std::abs(alpha_p), steps = std::ldexp(1.0, bits) - 1.0;
  const double sgn = alpha_p > 0 ? 1.0 : (alpha_p < 0 ? -1.0 : 0.0);
  auto q = [&](double z) { return std::nearbyint(z * steps) / steps; };
  CgPactResult r{make(x.shape), make(x.shape)};
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double xi = x.v[i];
    const double xc = std::max(xi, 0.0) < alpha ? std::max(xi, 0.0) : alpha;
    r.y.v[i] = alpha * q(xc / alpha);
    r.dx.v[i] = (xi > 0.0 && xi < alpha) ? g.v[i] : 0.0;
    const double dyda = xi >= alpha ? 1.0 : (xi <= 0.0 ? 0.0 : q(xi / alpha) - xi / alpha);
    r.dalpha += sgn * g.v[i] * dyda;
  }
  return r;
}

}  // namespace lowbit::ref
