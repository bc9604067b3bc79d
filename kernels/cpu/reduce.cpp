// CPU reductions: one pass over the input in order, each element added into its output slot
// (found from the output strides); max/min combine (value, index) pairs with the rule of
// kernels/reduce_math.h, shared with the CUDA kernels. Memory-bound: 4 bytes read per element.
#include "kernels/cpu/reduce.h"

#include <limits>
#include <vector>

#include "kernels/reduce_math.h"

namespace lowbit::cpu {

void reduce(ReduceOp op, const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
            int64_t out_numel, int64_t* arg) {
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i) total *= shape[i];
  const bool sum = op == ReduceOp::sum, max = op == ReduceOp::max;
  std::vector<double> acc(sum ? static_cast<size_t>(out_numel) : 0, 0.0);
  std::vector<ExtremePair> ext(sum ? 0 : static_cast<size_t>(out_numel), extreme_identity());

  int64_t inner = rank ? shape[rank - 1] : 1;
  int64_t inner_stride = rank ? out_strides[rank - 1] : 0;
  std::vector<int64_t> idx(static_cast<size_t>(rank > 0 ? rank : 1), 0);
  for (int64_t flat = 0; flat < total; flat += inner) {
    int64_t base = 0;
    for (int64_t d = 0; d + 1 < rank; ++d) base += idx[static_cast<size_t>(d)] * out_strides[d];
    for (int64_t i = 0; i < inner; ++i) {
      size_t o = static_cast<size_t>(base + i * inner_stride);
      if (sum)
        acc[o] += x[flat + i];
      else
        ext[o] = extreme_combine(ext[o], {x[flat + i], flat + i}, max);
    }
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[d]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  const float empty = max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  for (int64_t o = 0; o < out_numel; ++o) {
    auto k = static_cast<size_t>(o);
    if (sum)
      out[o] = static_cast<float>(acc[k]);
    else
      out[o] = ext[k].i < 0 ? empty : ext[k].v;  // no element (an empty axis): -inf / +inf, arg -1
    if (arg) arg[o] = sum ? -1 : ext[k].i;
  }
}

}  // namespace lowbit::cpu
