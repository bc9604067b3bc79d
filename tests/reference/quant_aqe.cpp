// Float64 reference of the AQE estimator: plain loops in double.
#include "tests/reference/quant_aqe.h"

#include <cmath>
#include <stdexcept>

namespace lowbit::ref {

namespace {

double h_of(double a, const std::string& h, double delta) {
  const double s = a >= 0.0 ? 1.0 : -1.0;  // the binarizing sign: sign(0) = +1
  const double m = std::abs(a);
  if (h == "sign") return s;
  if (h == "ternary") return m <= delta ? 0.0 : s;
  if (h == "pow2") {
    if (m <= 1.0 / 8) return 0.0;
    if (m <= 3.0 / 8) return s / 4;
    if (m <= 3.0 / 4) return s / 2;
    return s;
  }
  throw std::invalid_argument("ref::aqe: unknown h " + h);
}

}  // namespace

AqeResult aqe(const Arr& x, const Arr& g, double alpha, const std::string& h, double delta) {
  AqeResult r{make(x.shape), make(x.shape), make(x.shape)};
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double a = x.v[i];
    r.y_eval.v[i] = h_of(a, h, delta);
    r.y.v[i] = alpha * r.y_eval.v[i] + (1.0 - alpha) * a;
    r.dx.v[i] = std::abs(a) <= 1.0 ? 2.0 * alpha * g.v[i] : 0.0;
  }
  return r;
}

}  // namespace lowbit::ref
