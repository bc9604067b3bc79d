// Float64 reference of the AQE estimator (spec §5.1–5.2), written from the spec independently of
// kernels/quant/aqe_math.h. Standard library only.
#pragma once

#include <string>

#include "tests/reference/array.h"

namespace lowbit::ref {

struct AqeResult {
  Arr y, dx, y_eval;
};

// h: "sign", "ternary" (threshold delta) or "pow2" (levels 0, ±1/4, ±1/2, ±1; thresholds 1/8,
// 3/8, 3/4 inclusive toward the smaller magnitude).
AqeResult aqe(const Arr& x, const Arr& g, double alpha, const std::string& h, double delta = 0.5);

}  // namespace lowbit::ref
