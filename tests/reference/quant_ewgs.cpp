// Float64 reference of the EWGS quantizer: the spec §2.2 formulas literally
// (du = Σ m·g_n·(−(x−l)/r²), dl = Σ m·g_n·(x−u)/r²), with half-to-even rounding.
#include "tests/reference/quant_ewgs.h"

#include <cmath>

namespace lowbit::ref {

EwgsResult ewgs(const Arr& x, const Arr& g, double l, double u, double delta, int bits, bool weight) {
  const double levels = std::ldexp(1.0, bits);  // L = 2^bits
  const double r = u - l;
  EwgsResult out{make(x.shape), make(x.shape), make(x.shape), make(x.shape)};
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double t = (x.v[i] - l) / r;
    const double xn = std::fmin(std::fmax(t, 0.0), 1.0);
    const double xq = std::nearbyint((levels - 1.0) * xn) / (levels - 1.0);  // FE_TONEAREST: half to even
    out.x_n.v[i] = xn;
    out.x_q.v[i] = xq;
    out.y.v[i] = weight ? 2.0 * (xq - 0.5) : xq;
    const double gq = weight ? 2.0 * g.v[i] : g.v[i];
    const double sgn = gq > 0.0 ? 1.0 : (gq < 0.0 ? -1.0 : 0.0);
    const double gn = gq * (1.0 + delta * sgn * (xn - xq));
    const bool inside = t >= 0.0 && t <= 1.0;
    if (!inside) continue;
    out.dx.v[i] = gn / r;
    out.du += gn * (-(x.v[i] - l) / (r * r));
    out.dl += gn * ((x.v[i] - u) / (r * r));
  }
  return out;
}

}  // namespace lowbit::ref
