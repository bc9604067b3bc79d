// CUDA kernels of the AQE estimator (per-element math: kernels/quant/aqe_math.h).
// Napkin math (fp32, per element): forward reads 4 B, writes 4 B (8 B, the floor); backward reads
// g and x, writes dx (12 B). ~5 flops/element: memory-bound. No reductions (α is a buffer set by
// the trainer, read from device memory). Grid-stride loops, float4 when 16-byte aligned
// (kernels/cuda/quant_launch.cuh), on the current stream.
#include "kernels/cuda/quant_aqe.h"

#include "kernels/cuda/quant_launch.cuh"
#include "kernels/quant/aqe_math.h"

namespace lowbit::cuda {

namespace {

// alpha == nullptr: hard forward h(x).
__global__ void k_aqe_forward(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool vec, int levels,
                              float delta, const float* __restrict__ alpha) {
  const bool hard = alpha == nullptr;
  const float a = hard ? 1.f : *alpha;
  qlaunch::map1(x, y, n, vec, [&](float v) {
    return hard ? quant::aqe_h(v, levels, delta) : quant::aqe_forward(v, a, levels, delta);
  });
}

__global__ void k_aqe_backward(const float* __restrict__ g, const float* __restrict__ x, float* __restrict__ dx,
                               int64_t n, bool vec, const float* __restrict__ alpha) {
  const float a = *alpha;
  qlaunch::map2(g, x, dx, n, vec, [&](float gv, float xv) { return quant::aqe_dx(gv, xv, a); });
}

}  // namespace

void aqe_forward(const float* x, float* y, int64_t n, int levels, float delta, const float* alpha) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  qlaunch::launch_stride(k_aqe_forward, n, vec, x, y, n, vec, levels, delta, alpha);
}

void aqe_backward(const float* g, const float* x, float* dx, int64_t n, const float* alpha) {
  if (n == 0) return;
  const bool vec = aligned16(g, x, dx);
  qlaunch::launch_stride(k_aqe_backward, n, vec, g, x, dx, n, vec, alpha);
}

}  // namespace lowbit::cuda
