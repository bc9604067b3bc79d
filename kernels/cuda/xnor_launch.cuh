// Host-side launch of the three binary GEMM kernel families for given operand loaders and
// finishers (shared by xnor_gemm.cu and xnor_conv.cu; .cu files only): the tile configuration per
// path (a smaller tile when the big one would leave SMs idle), the grid (M tiles on x, N tiles on
// y) and the dynamic shared-memory opt-in above 48 KB, made once per kernel instantiation.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/xnor_mma.cuh"
#include "kernels/cuda/xnor_popc.cuh"
#include "kernels/cuda/xnor_wgmma.cuh"

namespace lowbit::cuda::xnor {

// Blocks of a BM×BN tiling of M×N.
inline int64_t tile_count(int64_t M, int64_t N, int BM, int BN) { return ((M + BM - 1) / BM) * ((N + BN - 1) / BN); }

template <class Cfg, class Kernel, class LA, class LB, class F>
void launch(Kernel kernel, const LA& la, const LB& lb, const F& fin, const XnorEpilogueArgs& ep, int64_t M, int64_t N,
            int64_t kw) {
  static bool opted_in = false;  // per instantiation (one host thread drives a device at a time)
  if (!opted_in) {
    LOWBIT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
    opted_in = true;
  }
  const int64_t gx = (M + Cfg::BM - 1) / Cfg::BM, gy = (N + Cfg::BN - 1) / Cfg::BN;
  LOWBIT_CHECK(gx <= 0x7fffffff && gy <= 65535, "xnor GEMM: ", M, " x ", N, " outputs exceed the grid limits");
  kernel<<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy)), Cfg::kThreads, Cfg::kSmemBytes,
           current_stream()>>>(la, lb, fin, ep, M, N, kw);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// CUDA cores: 128×128 tiles, or 64×64 when fewer than two blocks per SM would run.
template <class LA, class LB, class F>
void run_popc(const LA& la, const LB& lb, const F& fin, const XnorEpilogueArgs& ep, int64_t M, int64_t N,
              int64_t kw) {
  if (tile_count(M, N, 128, 128) >= 2 * sm_count())
    launch<PopcConfig<8, 8>>(xnor_popc_kernel<8, 8, LA, LB, F>, la, lb, fin, ep, M, N, kw);
  else
    launch<PopcConfig<4, 4>>(xnor_popc_kernel<4, 4, LA, LB, F>, la, lb, fin, ep, M, N, kw);
}

// mma.sync: 128×128 tiles, or 64×128 when fewer than two blocks per SM would run.
template <class LA, class LB, class F>
void run_mma(const LA& la, const LB& lb, const F& fin, const XnorEpilogueArgs& ep, int64_t M, int64_t N,
             int64_t kw) {
  if (tile_count(M, N, 128, 128) >= 2 * sm_count())
    launch<MmaConfig<4>>(xnor_mma_kernel<4, LA, LB, F>, la, lb, fin, ep, M, N, kw);
  else
    launch<MmaConfig<2>>(xnor_mma_kernel<2, LA, LB, F>, la, lb, fin, ep, M, N, kw);
}

// wgmma: 128×256 tiles.
template <class LA, class LB, class F>
void run_wgmma(const LA& la, const LB& lb, const F& fin, const XnorEpilogueArgs& ep, int64_t M, int64_t N,
               int64_t kw) {
  launch<WgmmaConfig>(xnor_wgmma_kernel<LA, LB, F>, la, lb, fin, ep, M, N, kw);
}

}  // namespace lowbit::cuda::xnor
