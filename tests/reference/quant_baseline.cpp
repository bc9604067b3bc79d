// Float64 references of the baseline quantizers (see quant_baseline.h). Plain double math.
#include "tests/reference/quant_baseline.h"

#include <algorithm>
#include <cmath>

namespace lowbit::ref {

namespace {

double bsign(double v) { return v >= 0.0 ? 1.0 : -1.0; }            // binarizing sign, 0 -> +1
double gsign(double v) { return (v > 0.0) - (v < 0.0); }            // sign(0) = 0
double rne(double v) { return std::nearbyint(v); }                  // half to even (default mode)
double qk(double r, int bits) {
  double n = std::ldexp(1.0, bits) - 1.0;
  return rne(n * r) / n;
}

}  // namespace

QuantResult ste_quant(const Arr& x, const Arr& g, int bits, double lo, bool saturate) {
  QuantResult r{make(x.shape), make(x.shape)};
  for (size_t i = 0; i < x.v.size(); ++i) {
    double v = x.v[i];
    if (bits == 1) {
      r.y.v[i] = bsign(v);
    } else {
      double c = std::min(std::max(v, lo), 1.0);
      r.y.v[i] = lo + (1.0 - lo) * qk((c - lo) / (1.0 - lo), bits);
    }
    r.dx.v[i] = (!saturate || std::abs(v) <= 1.0) ? g.v[i] : 0.0;
  }
  return r;
}

QuantResult xnor_weight_quant(const Arr& w, const Arr& g) {
  QuantResult r{make(w.shape), make(w.shape)};
  size_t channels = static_cast<size_t>(w.shape.at(0)), per = w.v.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    double alpha = 0.0, s = 0.0;
    for (size_t j = 0; j < per; ++j) {
      alpha += std::abs(w.v[c * per + j]);
      s += g.v[c * per + j] * bsign(w.v[c * per + j]);
    }
    alpha /= static_cast<double>(per);
    for (size_t j = 0; j < per; ++j) {
      size_t i = c * per + j;
      r.y.v[i] = alpha * bsign(w.v[i]);
      double ste = std::abs(w.v[i]) <= 1.0 ? alpha * g.v[i] : 0.0;
      r.dx.v[i] = ste + gsign(w.v[i]) * s / static_cast<double>(per);
    }
  }
  return r;
}

QuantResult dorefa_weight_quant(const Arr& w, const Arr& g, int bits) {
  QuantResult r{make(w.shape), make(w.shape)};
  size_t n = w.v.size();
  if (bits == 1) {
    double e = 0.0;
    for (double v : w.v) e += std::abs(v);
    e /= static_cast<double>(n);
    for (size_t i = 0; i < n; ++i) {
      r.y.v[i] = e * bsign(w.v[i]);
      r.dx.v[i] = g.v[i];
    }
    return r;
  }
  std::vector<double> t(n);
  double m = 0.0;
  for (size_t i = 0; i < n; ++i) {
    t[i] = std::tanh(w.v[i]);
    m = std::max(m, std::abs(t[i]));
  }
  // y_i = 2·q(t_i/(2M) + ½) − 1; ∂y_i/∂t_i = 1/M, ∂y_i/∂M = −t_i/M²; dM/dt_j = sign(t_j)/count
  // on the maximizers.
  double dl_dm = 0.0;
  int count = 0;
  for (size_t i = 0; i < n; ++i) {
    r.y.v[i] = 2.0 * qk(t[i] / (2.0 * m) + 0.5, bits) - 1.0;
    dl_dm -= g.v[i] * t[i] / (m * m);
    if (std::abs(t[i]) == m) ++count;
  }
  for (size_t i = 0; i < n; ++i) {
    double dt = g.v[i] / m;
    if (std::abs(t[i]) == m) dt += gsign(t[i]) * dl_dm / count;
    r.dx.v[i] = dt * (1.0 - t[i] * t[i]);
  }
  return r;
}

QuantResult dorefa_act_quant(const Arr& x, const Arr& g, int bits) {
  QuantResult r{make(x.shape), make(x.shape)};
  for (size_t i = 0; i < x.v.size(); ++i) {
    double v = x.v[i];
    r.y.v[i] = qk(std::min(std::max(v, 0.0), 1.0), bits);
    r.dx.v[i] = (v >= 0.0 && v <= 1.0) ? g.v[i] : 0.0;
  }
  return r;
}

QuantResult pact_quant(const Arr& x, const Arr& g, double alpha_p, int bits) {
  QuantResult r{make(x.shape), make(x.shape)};
  double alpha = std::abs(alpha_p), n = std::ldexp(1.0, bits) - 1.0, da = 0.0;
  for (size_t i = 0; i < x.v.size(); ++i) {
    double v = x.v[i];
    double c = std::min(std::max(v, 0.0), alpha);
    r.y.v[i] = alpha * rne(n * c / alpha) / n;
    r.dx.v[i] = (v > 0.0 && v < alpha) ? g.v[i] : 0.0;
    if (v >= alpha) da += g.v[i];
  }
  r.dparam = gsign(alpha_p) * da;
  return r;
}

}  // namespace lowbit::ref
