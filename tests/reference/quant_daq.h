// Float64 reference of DAQ (spec §3, the official code's formulas; vectors/README.md DAQ
// conventions), written independently of kernels/quant/daq_math.h: the soft path evaluated
// literally (distance similarities, argmax, Gaussian kernel, β*, softmax, shifted levels) and
// its derivative by the chain rule through the softmax (not the §3.2 closed form, which is
// computed separately for the cross-check).
#pragma once

#include <vector>

namespace lowbit::ref {

struct DaqRef {
  std::vector<double> y, dx, y_eval, level, t, w_hat, dl_per_element, du_per_element;
  double dl = 0.0, du = 0.0, mean = 0.0, std = 1.0;
  double closed_form_max_abs_diff = 0.0;  // |chain-rule ∂ŷ/∂f − closed form| · |∂L/∂level|, max
};

// x: the flat tensor; g: ∂L/∂y; weight: standardize and use the signed output (else l must be 0).
DaqRef daq(const std::vector<double>& x, const std::vector<double>& g, double l, double u, int bits, bool weight,
           double gamma, double sigma);

// ŷ(f) with β* frozen at its value for f0 (and i*, k frozen), for finite differences.
double daq_soft_frac_frozen(double f, double f0, double gamma, double sigma);
// ∂ŷ/∂f by the chain rule through the softmax, and the spec §3.2 closed form.
double daq_dyhat_df_chain(double f, double gamma, double sigma);
double daq_dyhat_df_closed(double f, double gamma, double sigma);

}  // namespace lowbit::ref
