// The warpgroup binary tensor-core GEMM kernel (XnorCudaPath::wgmma; sm_90a code on sm_90
// devices; instantiated by xnor_gemm.cu and xnor_conv.cu):
// wgmma.mma_async m64n256k256 .s32.b1.b1.and.popc accumulates Σ popc(a ∧ b) with both operands
// read from shared memory through matrix descriptors; the Finish policy applies the AND identity
// (kernels/bit_math.h xnor_dot_and) and the store phase is xnor_tile.cuh's.
//
// Design: 2 warpgroups (256 threads) own a 128×256 tile, each warpgroup 64 rows × 256 columns
// (128 s32 accumulators per thread). K streams through a 4-stage cp.async pipeline of 1024-bit
// stages (48 KB each: 128 + 256 rows × 128 B) in xnor_tile.cuh's layout, which *is* the 128-byte
// swizzle wgmma expects for K-major operands (chunk c of row r at c ^ (r % 8), 8-row groups 1024 B
// apart = the descriptor's stride offset; the stage base is 1024-byte aligned). A k256 step
// advances both descriptors by 32 bytes. Per stage: wait for this thread's copies, make them
// visible to the async proxy (fence.proxy.async), barrier, refill the slot whose wgmmas retired
// (prefetch distance 2 stages), issue ≤ 4 wgmma, commit, and wait until at most this group is in
// flight — so the tensor cores always have the current stage queued while copies land.
// Napkin math: one m64n256k256 = 8.4 M binary ops = 128 clocks of the SM's 65,536 ops/clk (15.4
// Pop/s on 132 SMs); it reads 2 KB of A + 8 KB of B from shared memory, and the cp.async refill
// adds 48 KB per 8 wgmma: ~10 KB of shared traffic per 128 clocks, inside the 128 B/clk budget.
// The refill is the limit: 48 KB per 1024 clocks is ~47 B/clk/SM from L2, ~11 TB/s over 132 SMs
// at the peak rate — more than L2 delivers. Closing that gap needs TMA loads multicast across a
// cluster (B shared by 2 CTAs), a warp-specialized producer and a persistent tile loop that
// overlaps one tile's store phase with the next tile's K loop (H100, before the store-phase
// rework: 3.1 Pop/s at 8192³ with i32 output).
// Shared memory: 4 × 48 KB stages (+1 KB alignment, + row scratch) -> one block per SM.
#pragma once

#include "kernels/cuda/xnor_tile.cuh"

// The wgmma instructions exist only in sm_90a code.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LOWBIT_XNOR_WGMMA 1
#else
#define LOWBIT_XNOR_WGMMA 0
#endif

namespace lowbit::cuda::xnor {

struct WgmmaConfig {
  static constexpr int kThreads = 256, kStages = 4;
  static constexpr int BM = 128, BN = 256;
  static constexpr int LDT = BN + 8;
  static constexpr int kStageBytes = (BM + BN) * kRowBytes;
  static constexpr int kPipeBytes = kStages * kStageBytes;
  static constexpr int kTileBytes = BM * LDT * 4;
  static constexpr int kMainBytes = kPipeBytes > kTileBytes ? kPipeBytes : kTileBytes;
  static_assert(kMainBytes - kTileBytes >= kColScratchInts * 4 * BN, "no room for the column scratch");
  static constexpr int kSmemBytes = 1024 + kMainBytes + 2 * BM * kRowInfoInts * 4;  // 1024: alignment slack
};

// Shared-memory matrix descriptor: K-major, 128-byte swizzle, 8-row groups 1024 B apart.
__device__ __forceinline__ uint64_t wgmma_desc(uint32_t addr) {
  uint64_t d = (addr & 0x3FFFFu) >> 4;  // start address / 16
  d |= uint64_t{1} << 16;               // leading byte offset (unused with this swizzle)
  d |= uint64_t{1024 >> 4} << 32;       // stride byte offset
  d |= uint64_t{1} << 62;               // 128-byte swizzle
  return d;
}

#define LOWBIT_D8(i)                                                                                         \
  "+r"(d[i]), "+r"(d[i + 1]), "+r"(d[i + 2]), "+r"(d[i + 3]), "+r"(d[i + 4]), "+r"(d[i + 5]), "+r"(d[i + 6]), \
      "+r"(d[i + 7])

// d (64×256 per warpgroup, 128 per thread) += popc(A ∧ B) over one k256 step.
__device__ __forceinline__ void wgmma_b1_and_n256(int32_t (&d)[128], uint64_t da, uint64_t db) {
#if LOWBIT_XNOR_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n256k256.s32.b1.b1.and.popc {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
      "%128, %129, 1;\n"
      : LOWBIT_D8(0), LOWBIT_D8(8), LOWBIT_D8(16), LOWBIT_D8(24), LOWBIT_D8(32), LOWBIT_D8(40), LOWBIT_D8(48),
        LOWBIT_D8(56), LOWBIT_D8(64), LOWBIT_D8(72), LOWBIT_D8(80), LOWBIT_D8(88), LOWBIT_D8(96), LOWBIT_D8(104),
        LOWBIT_D8(112), LOWBIT_D8(120)
      : "l"(da), "l"(db));
#endif
}
#undef LOWBIT_D8

__device__ __forceinline__ void wgmma_fence() {
#if LOWBIT_XNOR_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#if LOWBIT_XNOR_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
#if LOWBIT_XNOR_WGMMA
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
// Orders this thread's generic-proxy shared writes (cp.async) before async-proxy reads (wgmma).
__device__ __forceinline__ void fence_proxy_async() {
#if LOWBIT_XNOR_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

template <class LoadA, class LoadB, class Finish>
__global__ void __launch_bounds__(256, 1)
    xnor_wgmma_kernel(LoadA la, LoadB lb, Finish fin, XnorEpilogueArgs ep, int64_t M, int64_t N, int64_t kw) {
#if LOWBIT_XNOR_WGMMA
  using Cfg = WgmmaConfig;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, T = Cfg::kThreads, S = Cfg::kStages;
  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw = smem_addr(smem_raw);
  unsigned char* smem = smem_raw + (((raw + 1023u) & ~1023u) - raw);  // 1024-byte aligned (swizzle atoms)
  int* info = reinterpret_cast<int*>(smem + Cfg::kMainBytes);
  int* rs = info + BM * kRowInfoInts;
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5, wg = warp >> 2;
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
  for (int s = 0; s < S - 2; ++s) {
    if (s < nk) load_stage(s);
    cp_async_commit();
  }

  int32_t d[128];
#pragma unroll
  for (int i = 0; i < 128; ++i) d[i] = 0;

  for (int s = 0; s < nk; ++s) {
    cp_async_wait<S - 3>();  // stage s landed (this thread's copies)
    fence_proxy_async();
    __syncthreads();  // ... everyone's; and every wgmma of stage s-2 has retired (wait below)
    if (s + S - 2 < nk) load_stage(s + S - 2);  // into slot (s-2) % S
    cp_async_commit();
    const uint32_t As = base + (s % S) * Cfg::kStageBytes + wg * 64 * kRowBytes;
    const uint32_t Bs = base + (s % S) * Cfg::kStageBytes + BM * kRowBytes;
    const int64_t left = kw - int64_t{s} * kStageWords;
    wgmma_fence();
    if (left >= kStageWords) {  // a full stage: 4 k256 steps
#pragma unroll
      for (int ks = 0; ks < 4; ++ks) wgmma_b1_and_n256(d, wgmma_desc(As + ks * 32), wgmma_desc(Bs + ks * 32));
    } else {  // the last stage: only the steps holding valid words
      for (int ks = 0; ks * 8 < left; ++ks) wgmma_b1_and_n256(d, wgmma_desc(As + ks * 32), wgmma_desc(Bs + ks * 32));
    }
    wgmma_commit();
    wgmma_wait<1>();
  }
  wgmma_wait<0>();
  cp_async_wait<0>();
  __syncthreads();

  // Accumulator 4j + e of warp w (in its warpgroup): row 16w + lane/4 (+8 for e >= 2), column
  // 8j + 2·(lane%4) + e%2.
  int32_t* tile = reinterpret_cast<int32_t*>(smem);
  const int r0 = wg * 64 + (warp & 3) * 16 + (lane >> 2), c0 = 2 * (lane & 3);
#pragma unroll
  for (int j = 0; j < 32; ++j) {
    *reinterpret_cast<int2*>(tile + r0 * Cfg::LDT + 8 * j + c0) = make_int2(d[4 * j], d[4 * j + 1]);
    *reinterpret_cast<int2*>(tile + (r0 + 8) * Cfg::LDT + 8 * j + c0) = make_int2(d[4 * j + 2], d[4 * j + 3]);
  }
  int* cs = reinterpret_cast<int*>(smem + Cfg::kTileBytes);  // the rest of the pipeline's memory
  fin.prepare(rs, cs, m0, n0, tid, T, BM, BN);
  __syncthreads();
  store_tile<BM, BN, Cfg::LDT, T>(tile, rs, cs, fin, ep, M, N, m0, n0);
#else
  __trap();  // the launcher runs this path only where sm_90a code exists
#endif
}

}  // namespace lowbit::cuda::xnor
