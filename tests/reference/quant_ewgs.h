// Float64 reference of the EWGS quantizer (spec §2.1–2.2), written from the spec formulas
// independently of kernels/quant/ewgs_math.h. Standard library only.
#pragma once

#include "tests/reference/array.h"

namespace lowbit::ref {

struct EwgsResult {
  Arr y, dx, x_n, x_q;
  double dl = 0.0, du = 0.0;
};

// g: dL/dy (same shape as x). weight: y = 2(x_q − ½) and g_q = 2g; else y = x_q, g_q = g.
EwgsResult ewgs(const Arr& x, const Arr& g, double l, double u, double delta, int bits, bool weight);

}  // namespace lowbit::ref
