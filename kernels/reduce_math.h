// The max/min reduction rule, written once for host and device (LOWBIT_HD): a (value, flat index)
// pair per output and the combine of two pairs — the first NaN wins, else the larger (max) or
// smaller (min) value, equal values the smaller index. The combine is associative and commutative,
// so kernels/cpu/reduce.cpp (one element at a time, in order) and kernels/cuda/reduce.cu (any tree
// of partial results) give the same value and index.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace lowbit {

struct ExtremePair {
  float v;
  int64_t i;  // flat input index; < 0: no element seen yet
};

LOWBIT_HD ExtremePair extreme_identity() { return {0.f, -1}; }

LOWBIT_HD ExtremePair extreme_combine(ExtremePair a, ExtremePair b, bool max) {
  if (b.i < 0) return a;
  if (a.i < 0) return b;
  const bool an = is_nan(a.v), bn = is_nan(b.v);
  if (an || bn) {
    if (an && bn) return a.i <= b.i ? a : b;
    return an ? a : b;
  }
  if (max ? b.v > a.v : b.v < a.v) return b;
  if (b.v == a.v && b.i < a.i) return b;
  return a;
}

}  // namespace lowbit
