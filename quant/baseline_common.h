// Internal helpers shared by the baseline quantizer ops (quant/ste, bnn, xnor, dorefa, pact):
// argument checks and the width check of the makers. Not part of the public API.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit::qbase_detail {

inline void check_f32_input(const Tensor& x, const char* op, const char* arg) {
  LOWBIT_CHECK(x.dtype() == DType::f32, op, ": ", arg, " must be f32, got ", dtype_name(x.dtype()), " (shape ",
               shape_str(x.shape()), ")");
}

inline void check_bits(int bits, int lo, int hi, const char* op) {
  LOWBIT_CHECK(bits >= lo && bits <= hi, op, ": bits must be in [", lo, ", ", hi, "], got ", bits);
}

// Refuses a width outside `allowed`, naming the method, the target and the allowed widths.
inline void check_width(const QuantConfig& c, const std::vector<int>& allowed, const char* method) {
  for (int b : allowed)
    if (b == c.bits) return;
  std::string list;
  for (int b : allowed) list += (list.empty() ? "" : ", ") + std::to_string(b);
  LOWBIT_FAIL(method, ": ", quant_target_name(c.target), " width ", c.bits, " is not supported (", method,
              " supports ", quant_target_name(c.target), " widths {", list, "})");
}

inline std::vector<int> widths(int lo, int hi) {
  std::vector<int> v;
  for (int b = lo; b <= hi; ++b) v.push_back(b);
  return v;
}

}  // namespace lowbit::qbase_detail
