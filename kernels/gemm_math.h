// Per-element math of the GEMM epilogues (row bias add, bias-gradient column sums), written once
// for host and device (LOWBIT_HD): kernels/cpu/gemm.cpp and kernels/cuda/gemm_epilogue.cu call these.
#pragma once

#include "core/hd.h"

namespace lowbit {

// y[r, c] + bias[c], one rounded f32 add.
LOWBIT_HD float bias_add(float y, float bias) { return add_rn(y, bias); }

// The stored column sum: the double sum, plus the old value when accumulating, rounded once to f32.
LOWBIT_HD float column_sum_value(double sum, float old, bool accumulate) {
  return static_cast<float>(sum + (accumulate ? double{old} : 0.0));
}

}  // namespace lowbit
