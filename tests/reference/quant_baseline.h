// Float64 references of the baseline quantizers (STE/BNN, XNOR-Net weights, DoReFa, PACT),
// written independently of kernels/quant/baseline_math.h from the formulas of spec §6 and the
// conventions of tests/data/vectors/README.md. Each returns y and the gradients for upstream g.
#pragma once

#include <vector>

#include "tests/reference/array.h"

namespace lowbit::ref {

struct QuantResult {
  Arr y;
  Arr dx;
  double dparam = 0.0;  // the scalar parameter's gradient (PACT dα_p), 0 otherwise
};

// bits = 1: binarizing sign; bits ≥ 2: levels on [lo, 1]. Backward identity or 1{|x| ≤ 1}.
QuantResult ste_quant(const Arr& x, const Arr& g, int bits, double lo, bool saturate);
// XNOR-Net weights, channel axis 0.
QuantResult xnor_weight_quant(const Arr& w, const Arr& g);
// DoReFa weights (k = 1 and k ≥ 2) and activations.
QuantResult dorefa_weight_quant(const Arr& w, const Arr& g, int bits);
QuantResult dorefa_act_quant(const Arr& x, const Arr& g, int bits);
// Plain PACT with α = |α_p|.
QuantResult pact_quant(const Arr& x, const Arr& g, double alpha_p, int bits);

}  // namespace lowbit::ref
