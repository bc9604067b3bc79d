// Index math of the box copies (copy_box, pad), written once for host and device (LOWBIT_HD):
// row-major strides of a shape and the flat offset of a multi-index. kernels/cpu/shape.cpp and
// kernels/cuda/shape.cu both call these.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

// strides[a] = Π shape[a+1 .. rank-1] (in elements).
LOWBIT_HD void row_major_strides(const int64_t* shape, int64_t rank, int64_t* strides) {
  int64_t acc = 1;
  for (int64_t a = rank - 1; a >= 0; --a) {
    strides[a] = acc;
    acc *= shape[a];
  }
}

// Σ index[a]·strides[a].
LOWBIT_HD int64_t flat_offset(const int64_t* index, const int64_t* strides, int64_t rank) {
  int64_t off = 0;
  for (int64_t a = 0; a < rank; ++a) off += index[a] * strides[a];
  return off;
}

}  // namespace lowbit
