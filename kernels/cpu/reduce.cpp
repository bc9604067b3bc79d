// CPU reductions: one pass over the input in order, each element added into its output slot
// (found from the output strides). Memory-bound: 4 bytes read per element.
#include "kernels/cpu/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

namespace lowbit::cpu {

void reduce(ReduceOp op, const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
            int64_t out_numel, int64_t* arg) {
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i) total *= shape[i];
  std::vector<double> acc(static_cast<size_t>(out_numel));
  std::vector<int64_t> best(static_cast<size_t>(out_numel), -1);
  double init = op == ReduceOp::sum ? 0.0
                : op == ReduceOp::max ? -std::numeric_limits<double>::infinity()
                                      : std::numeric_limits<double>::infinity();
  for (auto& a : acc) a = init;

  int64_t inner = rank ? shape[rank - 1] : 1;
  int64_t inner_stride = rank ? out_strides[rank - 1] : 0;
  std::vector<int64_t> idx(static_cast<size_t>(rank > 0 ? rank : 1), 0);
  for (int64_t flat = 0; flat < total; flat += inner) {
    int64_t base = 0;
    for (int64_t d = 0; d + 1 < rank; ++d) base += idx[static_cast<size_t>(d)] * out_strides[d];
    for (int64_t i = 0; i < inner; ++i) {
      size_t o = static_cast<size_t>(base + i * inner_stride);
      double v = x[flat + i];
      if (op == ReduceOp::sum) {
        acc[o] += v;
      } else if (best[o] < 0 || std::isnan(v) ||
                 (!std::isnan(acc[o]) && (op == ReduceOp::max ? v > acc[o] : v < acc[o]))) {
        if (best[o] < 0 || !std::isnan(acc[o])) {  // NaN propagates; the first NaN wins
          acc[o] = v;
          best[o] = flat + i;
        }
      }
    }
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[d]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  for (int64_t o = 0; o < out_numel; ++o) {
    out[o] = static_cast<float>(acc[static_cast<size_t>(o)]);
    if (arg) arg[o] = best[static_cast<size_t>(o)];
  }
}

}  // namespace lowbit::cpu
