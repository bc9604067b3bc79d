// Float64 reference of the LSQ quantizer (Esser et al. 2020; spec §6), written from the paper's
// formulas independently of kernels/quant/lsq_math.h. Standard library only.
#pragma once

#include "tests/reference/array.h"

namespace lowbit::ref {

struct LsqResult {
  Arr y, dx;
  double ds = 0.0;
};

// signed_: weights (Q_N = 2^(b−1), Q_P = 2^(b−1) − 1), else activations (Q_N = 0, Q_P = 2^b − 1).
// ds = grad_scale·Σ g·dy/ds.
LsqResult lsq(const Arr& x, const Arr& g, double s, int bits, bool signed_, double grad_scale);

}  // namespace lowbit::ref
