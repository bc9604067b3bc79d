// The warp-level binary tensor-core GEMM kernel (XnorCudaPath::mma; sm_80+; instantiated by
// xnor_gemm.cu and xnor_conv.cu): mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc
// accumulates Σ popc(a ∧ b); the Finish policy turns it into Σ sign·sign with the row counts
// (K − 2·popc(a) − 2·popc(b) + 4·popc(a ∧ b), kernels/bit_math.h xnor_dot_and).
//
// Design: 4 warps (2×2) own a (32·MI)×128 tile, each warp a (16·MI)×64 sub-tile = MI×8 mma tiles
// of m16n8 (MI·32 s32 accumulators per thread). K streams through a 3-stage cp.async pipeline of
// 1024-bit stages in the 128-byte swizzle of xnor_tile.cuh; per k256 step a warp loads its A
// fragments with MI ldmatrix.x4 (rows r..r+15, chunks 2ks and 2ks+1 = a0..a3) and its B fragments
// with 4 ldmatrix.x4 (two n8 tiles each), all conflict-free under the swizzle, then issues MI·8
// mma. k256 steps wholly past the last K word are skipped (their operands are zero).
// Napkin math (MI = 4): one m16n8k256 = 65,536 binary ops; the H100's mma.sync .b1 rate (10.4
// Pop/s) is ~0.69 mma/clk/SM. Per k256 step a warp reads 2 KB (A) + 2 KB (B) of shared memory for
// 32 mma (~47 SM clocks at that rate vs ~32 clocks of 128 B/clk), and cp.async writes another
// ~16 clocks' worth per 32 mma: shared-memory bandwidth, not the tensor cores, bounds this path
// (expect ~60–70% of the mma.sync rate; the wgmma path reads operands without ldmatrix).
// Shared memory: 3 stages × (32·MI + 128) rows × 128 B (96 KB at MI = 4: two blocks per SM).
#pragma once

#include "kernels/cuda/xnor_tile.cuh"

namespace lowbit::cuda::xnor {

template <int MI>
struct MmaConfig {
  static constexpr int kThreads = 128, kStages = 3;
  static constexpr int BM = 32 * MI, BN = 128;
  static constexpr int LDT = BN + 8;  // staged tile row stride: int2 stores of a half-warp hit 32 banks
  static constexpr int kStageBytes = (BM + BN) * kRowBytes;
  static constexpr int kPipeBytes = kStages * kStageBytes;
  static constexpr int kTileBytes = BM * LDT * 4;
  static constexpr int kMainBytes = kPipeBytes > kTileBytes ? kPipeBytes : kTileBytes;
  static_assert(kMainBytes - kTileBytes >= kColScratchInts * 4 * BN, "no room for the column scratch");
  static constexpr int kSmemBytes = kMainBytes + 2 * BM * kRowInfoInts * 4;
};

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void mma_b1_and(int32_t (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  __trap();  // the launcher refuses this path below sm_80
#endif
}

template <int MI, class LoadA, class LoadB, class Finish>
__global__ void __launch_bounds__(128, 2)
    xnor_mma_kernel(LoadA la, LoadB lb, Finish fin, XnorEpilogueArgs ep, int64_t M, int64_t N, int64_t kw) {
  using Cfg = MmaConfig<MI>;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, T = Cfg::kThreads, S = Cfg::kStages;
  extern __shared__ __align__(1024) unsigned char smem[];
  int* info = reinterpret_cast<int*>(smem + Cfg::kMainBytes);
  int* rs = info + BM * kRowInfoInts;
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 1, wn = warp & 1;
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

  int32_t acc[MI][8][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0;

  // ldmatrix lane addresses (row within the tile, chunk offset within a k256 step).
  const int a_row = wm * 16 * MI + (lane & 7) + ((lane >> 3) & 1) * 8, a_chunk = lane >> 4;
  const int b_row = wn * 64 + (lane & 7) + (lane >> 4) * 8, b_chunk = (lane >> 3) & 1;

  for (int s = 0; s < nk; ++s) {
    cp_async_wait<S - 2>();
    __syncthreads();
    if (s + S - 1 < nk) load_stage(s + S - 1);
    cp_async_commit();
    const uint32_t As = base + (s % S) * Cfg::kStageBytes, Bs = As + BM * kRowBytes;
    const int64_t left = kw - int64_t{s} * kStageWords;  // valid words from this stage on
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
      if (ks * 8 >= left) break;  // a k256 step of zeros only
      uint32_t a[MI][4], b[8][2];
#pragma unroll
      for (int i = 0; i < MI; ++i) ldmatrix_x4(a[i], As + swz(a_row + 16 * i, 2 * ks + a_chunk));
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        uint32_t r[4];
        ldmatrix_x4(r, Bs + swz(b_row + 16 * j, 2 * ks + b_chunk));
        b[2 * j][0] = r[0];
        b[2 * j][1] = r[1];
        b[2 * j + 1][0] = r[2];
        b[2 * j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) mma_b1_and(acc[i][j], a[i], b[j][0], b[j][1]);
    }
  }
  cp_async_wait<0>();
  __syncthreads();

  // Accumulator (i, j, e): row 16i + lane/4 (+8 for e >= 2), column 8j + 2·(lane%4) + e%2.
  int32_t* tile = reinterpret_cast<int32_t*>(smem);
  const int g = lane >> 2, q = lane & 3;
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int r = wm * 16 * MI + 16 * i + g, c = wn * 64 + 8 * j + 2 * q;
      *reinterpret_cast<int2*>(tile + r * Cfg::LDT + c) = make_int2(acc[i][j][0], acc[i][j][1]);
      *reinterpret_cast<int2*>(tile + (r + 8) * Cfg::LDT + c) = make_int2(acc[i][j][2], acc[i][j][3]);
    }
  int* cs = reinterpret_cast<int*>(smem + Cfg::kTileBytes);  // the rest of the pipeline's memory
  fin.prepare(rs, cs, m0, n0, tid, T, BM, BN);
  __syncthreads();
  store_tile<BM, BN, Cfg::LDT, T>(tile, rs, cs, fin, ep, M, N, m0, n0);
}

}  // namespace lowbit::cuda::xnor
