// Float64 reference of the SAT quantizers (spec §4.2–4.3): DoReFa tanh weights with SAT's
// constant rescaling, and CG-PACT. Written from the spec independently of
// kernels/quant/sat_math.h. Standard library only.
#pragma once

#include <cstdint>

#include "tests/reference/array.h"

namespace lowbit::ref {

struct SatWeightResult {
  Arr y, dx, Q;  // Q: unscaled 2q − 1
  double M = 0.0, scale = 1.0;
};

// scheme: 0 original, 1 modified, 2 centered. autograd_max: gradient through M = max|tanh w|,
// shared evenly by the tied max elements; else M is a constant (N2D2).
SatWeightResult sat_weight(const Arr& w, const Arr& g, int bits, int scheme, bool rescale, int64_t n_out,
                           bool autograd_max);

struct CgPactResult {
  Arr y, dx;
  double dalpha = 0.0;  // w.r.t. α_p
};

CgPactResult cgpact(const Arr& x, const Arr& g, double alpha_p, int bits);

}  // namespace lowbit::ref
