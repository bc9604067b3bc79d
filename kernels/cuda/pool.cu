// CUDA pooling (kernels/cuda/pool.h). One thread per output element (forward) or per input
// element (backward), channel index fastest, so a warp touches consecutive channels (coalesced).
// The backward passes gather instead of scatter: each input cell visits the windows that cover
// it in ascending (oy, ox) order — the order in which the CPU loop adds into it — so results
// match the CPU bit for bit, with no atomics. Sums are exact mirrors of kernels/cpu/pool.cpp
// (double window sums for avg forward, f32 adds of gy·(1/divisor) for avg backward, rounded
// mul/add without FMA contraction). Window bounds, divisor and the first-max/NaN rule are
// kernels/pool_math.h, shared with the CPU loops.
// Napkin math (f32): forward reads each input cell kh·kw/(sh·sw) times (≈1 for stride = kernel,
// 2.25 for 3x3/s2; L1/L2 absorbs the repeats) and writes 4 B (+4 B argmax) per output; backward
// reads gy (+arg) per covering window and writes gx once (4 B). Memory-bound.
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/pool.h"
#include "kernels/pool_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

#define LOWBIT_GRID_STRIDE(i, n)                                                          \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Output windows [lo, hi) along one axis that cover input position i (stride s, pad p, kernel k).
__device__ void covering(int64_t i, int64_t k, int64_t s, int64_t p, int64_t out, int64_t& lo, int64_t& hi) {
  int64_t t = i + p - k + 1;  // first window start that still reaches i, in padded coordinates
  lo = t <= 0 ? 0 : (t + s - 1) / s;
  hi = (i + p) / s + 1;
  if (hi > out) hi = out;
}

// The output windows [oy0, oy1) x [ox0, ox1) that cover input cell (iy, ix).
struct Covering {
  int64_t oy0, oy1, ox0, ox1;
};
__device__ Covering covering_windows(const PoolGeometry& g, int64_t iy, int64_t ix) {
  Covering r;
  covering(iy, g.kh, g.sh, g.ph, g.oh, r.oy0, r.oy1);
  covering(ix, g.kw, g.sw, g.pw, g.ow, r.ox0, r.ox1);
  return r;
}

// Splits an NHWC linear index into (b, y, x, c).
__device__ void split(int64_t i, int64_t h, int64_t w, int64_t c, int64_t& b, int64_t& y, int64_t& x, int64_t& ch) {
  ch = i % c;
  int64_t p = i / c;
  x = p % w;
  p /= w;
  y = p % h;
  b = p / h;
}

__global__ void max_forward_kernel(const float* x, PoolGeometry g, float* y, int32_t* arg) {
  const int64_t n = g.n * g.oh * g.ow * g.c;
  LOWBIT_GRID_STRIDE(o, n) {
    int64_t b, oy, ox, c;
    split(o, g.oh, g.ow, g.c, b, oy, ox, c);
    PoolWindow win = pool_window_at(g, oy, ox);
    float best = 0.f;
    int32_t best_cell = -1;
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) {
        float v = x[((b * g.h + iy) * g.w + ix) * g.c + c];
        if (max_pool_takes(v, best, best_cell < 0)) {
          best = v;
          best_cell = static_cast<int32_t>(iy * g.w + ix);
        }
      }
    y[o] = best;
    arg[o] = best_cell;
  }
}

__global__ void max_backward_kernel(const float* gy, const int32_t* arg, PoolGeometry g, float* gx) {
  const int64_t n = g.n * g.h * g.w * g.c;
  LOWBIT_GRID_STRIDE(i, n) {
    int64_t b, iy, ix, c;
    split(i, g.h, g.w, g.c, b, iy, ix, c);
    const Covering cov = covering_windows(g, iy, ix);
    const auto cell = static_cast<int32_t>(iy * g.w + ix);
    float acc = 0.f;
    for (int64_t oy = cov.oy0; oy < cov.oy1; ++oy)
      for (int64_t ox = cov.ox0; ox < cov.ox1; ++ox) {
        int64_t o = ((b * g.oh + oy) * g.ow + ox) * g.c + c;
        if (arg[o] == cell) acc = __fadd_rn(acc, gy[o]);
      }
    gx[i] = acc;
  }
}

__global__ void avg_forward_kernel(const float* x, PoolGeometry g, bool count_include_pad, float* y) {
  const int64_t n = g.n * g.oh * g.ow * g.c;
  LOWBIT_GRID_STRIDE(o, n) {
    int64_t b, oy, ox, c;
    split(o, g.oh, g.ow, g.c, b, oy, ox, c);
    PoolWindow win = pool_window_at(g, oy, ox);
    double acc = 0.0;
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) acc += x[((b * g.h + iy) * g.w + ix) * g.c + c];
    double inv = 1.0 / avg_pool_divisor(g, win, count_include_pad);
    y[o] = static_cast<float>(acc * inv);
  }
}

__global__ void avg_backward_kernel(const float* gy, PoolGeometry g, bool count_include_pad, float* gx) {
  const int64_t n = g.n * g.h * g.w * g.c;
  LOWBIT_GRID_STRIDE(i, n) {
    int64_t b, iy, ix, c;
    split(i, g.h, g.w, g.c, b, iy, ix, c);
    const Covering cov = covering_windows(g, iy, ix);
    float acc = 0.f;
    for (int64_t oy = cov.oy0; oy < cov.oy1; ++oy)
      for (int64_t ox = cov.ox0; ox < cov.ox1; ++ox) {
        float inv = avg_pool_inv_divisor(g, pool_window_at(g, oy, ox), count_include_pad);
        acc = add_rn(acc, mul_rn(gy[((b * g.oh + oy) * g.ow + ox) * g.c + c], inv));
      }
    gx[i] = acc;
  }
}

__global__ void global_avg_forward_kernel(const float* x, int64_t n, int64_t hw, int64_t c, float* y) {
  LOWBIT_GRID_STRIDE(o, n * c) {
    int64_t b = o / c, k = o - b * c;
    const float* xb = x + b * hw * c + k;
    double acc = 0.0;
    for (int64_t p = 0; p < hw; ++p) acc += xb[p * c];
    y[o] = static_cast<float>(acc / static_cast<double>(hw));
  }
}

__global__ void global_avg_backward_kernel(const float* gy, int64_t n, int64_t hw, int64_t c, float inv, float* gx) {
  LOWBIT_GRID_STRIDE(i, n * hw * c) {
    int64_t k = i % c, b = i / (hw * c);
    gx[i] = __fmul_rn(gy[b * c + k], inv);
  }
}

#undef LOWBIT_GRID_STRIDE

}  // namespace

void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y, int32_t* arg) {
  int64_t n = g.n * g.oh * g.ow * g.c;
  if (n <= 0) return;
  max_forward_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(x, g, y, arg);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void max_pool2d_backward(const float* gy, const int32_t* arg, const PoolGeometry& g, float* gx) {
  int64_t n = g.n * g.h * g.w * g.c;
  if (n <= 0) return;
  max_backward_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(gy, arg, g, gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void avg_pool2d_forward(const float* x, const PoolGeometry& g, bool count_include_pad, float* y) {
  int64_t n = g.n * g.oh * g.ow * g.c;
  if (n <= 0) return;
  avg_forward_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(x, g, count_include_pad, y);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void avg_pool2d_backward(const float* gy, const PoolGeometry& g, bool count_include_pad, float* gx) {
  int64_t n = g.n * g.h * g.w * g.c;
  if (n <= 0) return;
  avg_backward_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(gy, g, count_include_pad, gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void global_avg_pool_forward(const float* x, int64_t n, int64_t hw, int64_t c, float* y) {
  if (n * c <= 0) return;
  global_avg_forward_kernel<<<grid_for(n * c), kThreads, 0, current_stream()>>>(x, n, hw, c, y);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void global_avg_pool_backward(const float* gy, int64_t n, int64_t hw, int64_t c, float* gx) {
  if (n * hw * c <= 0) return;
  float inv = 1.f / static_cast<float>(hw);
  global_avg_backward_kernel<<<grid_for(n * hw * c), kThreads, 0, current_stream()>>>(gy, n, hw, c, inv, gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
