// EWGS quantizer CPU loops: one pass over the elements forward (read x, write y) and backward
// (read x and g, write dx, accumulate dl and du in double). x_n and x_q are recomputed from x.
// Threads, vectorization and the reproducible sums: kernels/cpu/quant_loop.h.
#include "kernels/cpu/quant_ewgs.h"

#include "kernels/cpu/quant_loop.h"
#include "kernels/quant/ewgs_math.h"

namespace lowbit::cpu {

void ewgs_forward(const float* x, float* y, int64_t n, float l, float u, float levels_m1, bool weight) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = ewgs_forward_value(x[i], l, u, levels_m1, weight); });
}

void ewgs_backward(const float* x, const float* g, float* dx, int64_t n, float l, float u, float delta,
                   float levels_m1, bool weight, double* dl, double* du) {
  const auto s = qloop::sum<2>(n, qloop::kCheap, [=](int64_t i) {
    const EwgsGrad r = ewgs_backward_value(x[i], g[i], l, u, delta, levels_m1, weight);
    dx[i] = r.dx;
    return std::array<float, 2>{r.dl, r.du};
  });
  *dl = s[0];
  *du = s[1];
}

}  // namespace lowbit::cpu
