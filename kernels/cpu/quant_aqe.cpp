// CPU loops of the AQE estimator: one pass each way. Memory-bound: 8 B/element forward,
// 12 B/element backward, ~5 flops/element. Threads and vectorization: kernels/cpu/quant_loop.h.
#include "kernels/cpu/quant_aqe.h"

#include "kernels/cpu/quant_loop.h"
#include "kernels/quant/aqe_math.h"

namespace lowbit::cpu {

void aqe_forward(const float* x, float* y, int64_t n, int levels, float delta, const float* alpha) {
  if (alpha == nullptr)
    return qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = quant::aqe_h(x[i], levels, delta); });
  const float a = *alpha;
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { y[i] = quant::aqe_forward(x[i], a, levels, delta); });
}

void aqe_backward(const float* g, const float* x, float* dx, int64_t n, const float* alpha) {
  const float a = *alpha;
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) { dx[i] = quant::aqe_dx(g[i], x[i], a); });
}

}  // namespace lowbit::cpu
