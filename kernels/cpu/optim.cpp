// CPU optimizer kernels. All are memory-bound single passes, per element:
//   sgd_step:  reads p, g, buf, writes p, buf: 20 bytes, ~5 flops (12 bytes without momentum);
//   adam_step: reads p, g, m, v, writes p, m, v: 28 bytes, ~15 flops and one sqrt;
//   sum_squares: 4 bytes, 2 flops; clamp_inplace: 8 bytes.
// The loops are branch-free per element (the branches in the math depend only on the arguments),
// so the compiler can vectorize them.
#include "kernels/cpu/optim.h"

namespace lowbit::cpu {

void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdStepArgs& args) {
  if (args.momentum == 0.f) {
    for (int64_t i = 0; i < n; ++i) sgd_update(p[i], g[i], nullptr, args);
    return;
  }
  for (int64_t i = 0; i < n; ++i) sgd_update(p[i], g[i], buf + i, args);
}

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamStepArgs& args) {
  for (int64_t i = 0; i < n; ++i) adam_update(p[i], g[i], m[i], v[i], args);
}

double sum_squares(const float* x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return s;
}

void clamp_inplace(float* x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) x[i] = clamp_value(x[i], lo, hi);
}

}  // namespace lowbit::cpu
