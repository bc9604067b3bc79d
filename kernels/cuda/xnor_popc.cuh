// The CUDA-core binary GEMM kernel (XnorCudaPath::popc; instantiated by xnor_gemm.cu and
// xnor_conv.cu): s = K − 2·Σ popc(a ⊕ b), any device, any shape.
//
// Design: a block of 256 threads (16×16) owns a (16·TM)×(16·TN) output tile; thread (ty, tx) owns
// rows ty + 16i (i < TM) and columns tx + 16j (j < TN). K streams through a 3-stage cp.async
// pipeline of 32-word (1024-bit) stages in the swizzled layout of xnor_tile.cuh. Per 2-word half-chunk a
// thread loads TM rows of A as 64-bit fragments (two distinct rows per warp: broadcasts), then
// one 64-bit B fragment per column (16 consecutive rows per half-warp: conflict-free under the
// swizzle) and does TM·2 XOR+POPC+add into its accumulators. The sums are staged in shared memory
// and leave through the fused store phase (xnor_tile.cuh store_tile).
// Napkin math (TM = TN = 8, per half-chunk and thread): 8 + 8 LDS.64 for 128 POPC + 128 LOP3 + ~64
// IADD3. POPC issues at 16/clk/SM (4 per SMSP), so a warp's 128 POPC take 1024 SMSP clocks while
// its 16 shared loads cost ~24 SM clocks: bound by POPC at ~16 words/clk/SM = 64·16·132·1.75 GHz
// ≈ 240 Top/s on an H100 SXM (performance.md: 250–275 at boost clocks). Shared memory: 3 stages ×
// 2 × 16·T·128 B (96 KB for TM = TN = 8: two blocks per SM).
#pragma once

#include "kernels/cuda/xnor_tile.cuh"

namespace lowbit::cuda::xnor {

template <int TM, int TN>
struct PopcConfig {
  static constexpr int kThreads = 256, kStages = 3;
  static constexpr int BM = 16 * TM, BN = 16 * TN;
  static constexpr int LDT = BN + 16;  // staged tile row stride (ints): rows ty, ty+1 16 banks apart
  static constexpr int kStageBytes = (BM + BN) * kRowBytes;
  static constexpr int kPipeBytes = kStages * kStageBytes;
  static constexpr int kTileBytes = BM * LDT * 4;
  static constexpr int kMainBytes = kPipeBytes > kTileBytes ? kPipeBytes : kTileBytes;
  static_assert(kMainBytes - kTileBytes >= kColScratchInts * 4 * BN, "no room for the column scratch");
  // + the loaders' per-row info and the finishers' per-row stats (kRowInfoInts ints each).
  static constexpr int kSmemBytes = kMainBytes + 2 * BM * kRowInfoInts * 4;
};

template <int TM, int TN, class LoadA, class LoadB, class Finish>
__global__ void __launch_bounds__(256, 2)
    xnor_popc_kernel(LoadA la, LoadB lb, Finish fin, XnorEpilogueArgs ep, int64_t M, int64_t N, int64_t kw) {
  using Cfg = PopcConfig<TM, TN>;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, T = Cfg::kThreads, S = Cfg::kStages;
  extern __shared__ __align__(1024) unsigned char smem[];
  int* info = reinterpret_cast<int*>(smem + Cfg::kMainBytes);  // loader row info (A side)
  int* rs = info + BM * kRowInfoInts;                          // finisher row stats
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t m0 = static_cast<int64_t>(blockIdx.x) * BM, n0 = static_cast<int64_t>(blockIdx.y) * BN;
  const uint32_t base = smem_addr(smem);

  la.prepare(info, m0, tid, T, BM);
  __syncthreads();
  const int nk = static_cast<int>((kw + kStageWords - 1) / kStageWords);
  auto load_stage = [&](int s) {
    const uint32_t dst = base + (s % S) * Cfg::kStageBytes;
    la.template load<BM, T>(dst, m0, int64_t{s} * kStageWords, tid, info);
    lb.template load<BN, T>(dst + BM * kRowBytes, n0, int64_t{s} * kStageWords, tid, info);
  };
#pragma unroll
  for (int s = 0; s < S - 1; ++s) {
    if (s < nk) load_stage(s);
    cp_async_commit();
  }

  const int tx = tid & 15, ty = tid >> 4;
  int32_t acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0;

  for (int s = 0; s < nk; ++s) {
    cp_async_wait<S - 2>();
    __syncthreads();  // stage s landed for everyone; slot (s-1) % S is free
    if (s + S - 1 < nk) load_stage(s + S - 1);
    cp_async_commit();
    const unsigned char* As = smem + (s % S) * Cfg::kStageBytes;
    const unsigned char* Bs = As + BM * kRowBytes;
    const int chunks = static_cast<int>((kw - int64_t{s} * kStageWords + 3) / 4);  // valid 4-word chunks
    // Half-chunks of 2 words (64-bit fragments keep the registers under the 2-blocks-per-SM cap).
#pragma unroll 2
    for (int h = 0; h < 16; ++h) {
      if (h >= 2 * chunks) break;
      const int c = h >> 1, off = (h & 1) * 8;
      uint2 a[TM];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = *reinterpret_cast<const uint2*>(As + swz(ty + 16 * i, c) + off);
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const uint2 b = *reinterpret_cast<const uint2*>(Bs + swz(tx + 16 * j, c) + off);
#pragma unroll
        for (int i = 0; i < TM; ++i) acc[i][j] += __popc(a[i].x ^ b.x) + __popc(a[i].y ^ b.y);
      }
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // the pipeline's shared memory becomes the staged tile

  int32_t* tile = reinterpret_cast<int32_t*>(smem);
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) tile[(ty + 16 * i) * Cfg::LDT + tx + 16 * j] = acc[i][j];
  int* cs = reinterpret_cast<int*>(smem + Cfg::kTileBytes);  // the rest of the pipeline's memory
  fin.prepare(rs, cs, m0, n0, tid, T, BM, BN);
  __syncthreads();
  store_tile<BM, BN, Cfg::LDT, T>(tile, rs, cs, fin, ep, M, N, m0, n0);
}

}  // namespace lowbit::cuda::xnor
