// LSQ quantizer CPU loops: one pass forward (read x, write y) and backward (read x and g, write
// dx, accumulate the step-size gradient in double, scaled once by grad_scale at the end).
// Threads, vectorization and the reproducible sums: kernels/cpu/quant_loop.h.
#include "kernels/cpu/quant_lsq.h"

#include "kernels/cpu/quant_loop.h"
#include "kernels/quant/lsq_math.h"

namespace lowbit::cpu {

void lsq_forward(const float* x, float* y, int64_t n, float s, float qn, float qp) {
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = lsq_forward_value(x[i], s, qn, qp); });
}

void lsq_backward(const float* x, const float* g, float* dx, int64_t n, float s, float qn, float qp,
                  double grad_scale, double* ds) {
  const auto acc = qloop::sum<1>(n, qloop::kCheap, [=](int64_t i) {
    const LsqGrad r = lsq_backward_value(x[i], g[i], s, qn, qp);
    dx[i] = r.dx;
    return std::array<float, 1>{r.ds};
  });
  *ds = grad_scale * acc[0];
}

}  // namespace lowbit::cpu
