// Float64 reference of the LSQ quantizer: v̄ = round(clip(v/s, −Q_N, Q_P)) (half to even),
// v̂ = v̄·s; dx = g·1{−Q_N < v/s < Q_P}; dv̂/ds = −v/s + round(v/s) inside, −Q_N / Q_P outside.
#include "tests/reference/quant_lsq.h"

#include <cmath>

namespace lowbit::ref {

LsqResult lsq(const Arr& x, const Arr& g, double s, int bits, bool signed_, double grad_scale) {
  const double qn = signed_ ? std::ldexp(1.0, bits - 1) : 0.0;
  const double qp = signed_ ? std::ldexp(1.0, bits - 1) - 1.0 : std::ldexp(1.0, bits) - 1.0;
  LsqResult out{make(x.shape), make(x.shape)};
  double sum = 0.0;
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double v = x.v[i] / s;
    out.y.v[i] = std::nearbyint(std::fmin(std::fmax(v, -qn), qp)) * s;
    double dyds;
    if (v <= -qn) {
      dyds = -qn;
    } else if (v >= qp) {
      dyds = qp;
    } else {
      dyds = std::nearbyint(v) - v;
      out.dx.v[i] = g.v[i];
    }
    sum += g.v[i] * dyds;
  }
  out.ds = grad_scale * sum;
  return out;
}

}  // namespace lowbit::ref
