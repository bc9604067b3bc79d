// Binary max-pool on the CPU: one AND over the window's pixels per channel word.
#include "kernels/cpu/binary_pool.h"

#include "kernels/bit_math.h"
#include "kernels/xnor_epilogue_math.h"

namespace lowbit::cpu {

void binary_max_pool2d(const uint32_t* x, const PoolGeometry& g, uint32_t* y) {
  const int64_t cw = packed_words(g.c);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const PoolWindow win = pool_window_at(g, oy, ox);
        uint32_t* out = y + ((n * g.oh + oy) * g.ow + ox) * cw;
        for (int64_t w = 0; w < cw; ++w) out[w] = kBinaryMaxInit;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix) {
            const uint32_t* in = x + ((n * g.h + iy) * g.w + ix) * cw;
            for (int64_t w = 0; w < cw; ++w) out[w] = binary_max_word(out[w], in[w]);
          }
      }
}

}  // namespace lowbit::cpu
