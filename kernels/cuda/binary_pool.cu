// CUDA binary max-pool: one thread per output word, AND over the window (kernels/cuda/binary_pool.h).
// Napkin math: reads kh·kw words and writes one word per thread; adjacent threads take adjacent
// channel words of one pixel, so the loads of a warp are coalesced when C spans several words.
#include "kernels/cuda/binary_pool.h"

#include "kernels/bit_math.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/xnor_epilogue_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void binary_max_pool_kernel(const uint32_t* x, PoolGeometry g, int64_t cw, uint32_t* y) {
  const int64_t total = g.n * g.oh * g.ow * cw;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t w = i % cw;
    int64_t p = i / cw;
    const int64_t ox = p % g.ow;
    p /= g.ow;
    const int64_t oy = p % g.oh;
    const int64_t n = p / g.oh;
    const PoolWindow win = pool_window_at(g, oy, ox);
    uint32_t acc = kBinaryMaxInit;
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix) acc = binary_max_word(acc, x[((n * g.h + iy) * g.w + ix) * cw + w]);
    y[i] = acc;
  }
}

}  // namespace

void binary_max_pool2d(const uint32_t* x, const PoolGeometry& g, uint32_t* y) {
  const int64_t cw = packed_words(g.c);
  const int64_t total = g.n * g.oh * g.ow * cw;
  if (total == 0) return;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const int grid = static_cast<int>(blocks < 65535 * 8 ? blocks : 65535 * 8);
  binary_max_pool_kernel<<<grid, kThreads, 0, current_stream()>>>(x, g, cw, y);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
