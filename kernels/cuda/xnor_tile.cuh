// Shared pieces of the CUDA binary GEMM / convolution kernels (kernels/cuda/xnor_{popc,mma,wgmma}.cuh,
// instantiated by xnor_gemm.cu and xnor_conv.cu; .cu files only):
//   - the shared-memory stage layout: per operand a tile of rows × 32 words (1024 bits, 128 bytes),
//     the eight 16-byte chunks of row r stored at chunk c ^ (r % 8) (the 128-byte swizzle: ldmatrix,
//     wgmma's 128B-swizzle descriptors and the popc kernel's 128-bit loads are all conflict-free);
//   - cp.async operand loaders: GemmOperand (packed rows with a stride) — the convolution adds its
//     implicit-im2col gather in xnor_conv.cu; a load of G words (16, 8 or 4 bytes) zero-fills what
//     lies past the last row or word, so K is padded with zeros and M/N edges read nothing;
//   - the fused store phase: the int32 tile staged in shared memory, each sum finished by the
//     kernel's Finish policy (the popcount form -> Σ sign·sign, plus the convolution's border fix),
//     then written as i32, f32 a[n]·s + b[n], or threshold bits packed with __ballot_sync
//     (kernels/xnor_epilogue_math.h — the CPU loops' per-element math).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/bit_math.h"
#include "kernels/cuda/xnor_gemm.h"
#include "kernels/xnor_epilogue_math.h"

namespace lowbit::cuda::xnor {

constexpr int kStageWords = 32;  // K words per row per pipeline stage
constexpr int kRowBytes = 128;   // shared bytes per row per stage
constexpr int kRowInfoInts = 4;  // per-tile-row ints of the loaders' and finishers' scratch
// Per-tile-column ints of finisher scratch every kernel configuration provides (in the pipeline
// memory the staged tile leaves free; each config static_asserts it).
constexpr int kColScratchInts = 48;

// Byte offset of 16-byte chunk c (0..7) of row r inside a stage tile (tile base 1024-byte aligned).
__device__ __forceinline__ uint32_t swz(int r, int c) {
  return static_cast<uint32_t>(r * kRowBytes + ((c ^ (r & 7)) << 4));
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies `bytes` (<= Bytes) from global src to shared dst and zero-fills the rest of the Bytes.
template <int Bytes>
__device__ __forceinline__ void cp_async(uint32_t dst, const void* src, int bytes) {
  if constexpr (Bytes == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(dst), "l"(src), "n"(Bytes), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Packed rows p[row·ld + word] with `rows` rows of kw valid words. G: words per cp.async (the
// largest of 4, 2, 1 that the stride and base alignment allow).
template <int G>
struct GemmOperand {
  const uint32_t* p;
  int64_t ld, rows, kw;

  // No per-row preparation (the convolution's gather has one).
  __device__ void prepare(int* /*info*/, int64_t /*row0*/, int /*tid*/, int /*threads*/, int /*rows*/) const {}

  // One stage: tile rows row0 .. row0+ROWS, words kword0 .. kword0+32, into the stage tile at dst.
  // Thread t copies chunk t % 8 of rows t/8, t/8 + THREADS/8, ...
  template <int ROWS, int THREADS>
  __device__ void load(uint32_t dst, int64_t row0, int64_t kword0, int tid, const int* /*info*/) const {
    constexpr int kStep = THREADS / 8;
    static_assert(ROWS % kStep == 0, "tile rows must be a multiple of THREADS/8");
    const int c = tid & 7;
    const int64_t w = kword0 + c * 4;
#pragma unroll
    for (int i = 0; i < ROWS / kStep; ++i) {
      const int r = tid / 8 + i * kStep;
      const int64_t R = row0 + r;
      const uint32_t d = dst + swz(r, c);
#pragma unroll
      for (int g = 0; g < 4; g += G) {
        const int64_t left = kw - (w + g);
        const int words = R < rows ? static_cast<int>(left < 0 ? 0 : left > G ? G : left) : 0;
        cp_async<G * 4>(d + g * 4, words ? p + R * ld + (w + g) : p, words * 4);
      }
    }
  }
};

// ---------------------------------------------------------------- finishing the sums
//
// A Finish policy turns a raw popcount sum into Σ sign·sign. Its per-row part (Row, from the
// shared row scratch rs that prepare() fills once per tile) and per-column part (Col, read once
// per thread before the store loops) keep the store loops free of global loads:
//   prepare(rs, cs, m0, n0, tid, threads, rows, cols)  cs: kColScratchInts per tile column
//   Row row(rs, r);  Col col(cs, c, n);  int32_t value(Row, Col, raw)

// The popcount form of the CUDA-core path: Σ popc(a ⊕ b) -> Σ sign·sign.
struct XorFinish {
  int64_t k_bits;
  struct Row {};
  struct Col {};
  __device__ void prepare(int*, int*, int64_t, int64_t, int, int, int, int) const {}
  __device__ Row row(const int*, int) const { return {}; }
  __device__ Col col(const int*, int, int64_t) const { return {}; }
  __device__ int32_t value(Row, Col, int32_t raw) const { return xnor_dot(k_bits, raw); }
};

// The tensor cores' form: Σ popc(a ∧ b) with the row counts popc(a) (per m) and popc(b) (per n).
struct AndFinish {
  int64_t k_bits, M;
  const int32_t* pop_a;
  const int32_t* pop_b;
  struct Row {
    int32_t pop_a;
  };
  struct Col {
    int32_t pop_b;
  };
  __device__ void prepare(int* rs, int*, int64_t m0, int64_t, int tid, int threads, int rows, int) const {
    for (int r = tid; r < rows; r += threads) rs[r * kRowInfoInts] = m0 + r < M ? pop_a[m0 + r] : 0;
  }
  __device__ Row row(const int* rs, int r) const { return {rs[r * kRowInfoInts]}; }
  __device__ Col col(const int*, int, int64_t n) const { return {pop_b[n]}; }
  __device__ int32_t value(Row r, Col c, int32_t raw) const { return xnor_dot_and(k_bits, r.pop_a, c.pop_b, raw); }
};

// ---------------------------------------------------------------- the store phase

// Writes the BM×BN tile of raw sums (shared, row stride LDT ints) through the epilogue; rs/cs are
// the finisher's row and column scratch (prepared, followed by a barrier).
// Threshold: warp w takes rows w, w + warps, ...; lane l owns columns 32j + l (j < BN/32), whose
// thresholds, modes and finisher columns it loads once; per row it computes its BN/32 bits, one
// __ballot_sync per word, and lane j stores word j (columns >= N give the 0 padding bits).
// i32/f32: thread t owns column t % BN (its scale/bias/finisher column loaded once) and rows
// t / BN, + THREADS/BN, ...: consecutive threads store consecutive columns.
template <int BM, int BN, int LDT, int THREADS, class Finish>
__device__ void store_tile(const int32_t* tile, const int* rs, const int* cs, const Finish& fin,
                           const XnorEpilogueArgs& ep, int64_t M, int64_t N, int64_t m0, int64_t n0) {
  static_assert(BN % 32 == 0 && THREADS % BN == 0, "store mapping needs whole words and THREADS % BN == 0");
  const int tid = static_cast<int>(threadIdx.x);
  if (ep.kind == XnorEpilogueArgs::Kind::threshold) {
    constexpr int kWords = BN / 32, kWarps = THREADS / 32;
    const int lane = tid & 31, warp = tid >> 5;
    typename Finish::Col col[kWords];
    int32_t t[kWords];
    uint32_t mode[kWords];
#pragma unroll
    for (int j = 0; j < kWords; ++j) {
      const int c = 32 * j + lane;
      const int64_t n = n0 + c;
      const bool in = n < N;
      col[j] = fin.col(cs, c, in ? n : 0);
      t[j] = in ? ep.threshold[n] : 0;
      mode[j] = in ? ep.mode[n] : 0;
    }
    const int64_t words = (N + 31) / 32, word0 = n0 / 32;
    uint32_t* out = static_cast<uint32_t*>(ep.out);
    for (int r = warp; r < BM; r += kWarps) {
      const int64_t m = m0 + r;
      if (m >= M) break;  // uniform across the warp; later rows are past M too
      const typename Finish::Row row = fin.row(rs, r);
      uint32_t mine = 0;
#pragma unroll
      for (int j = 0; j < kWords; ++j) {
        const bool in = n0 + 32 * j + lane < N;
        const uint32_t bit = in ? threshold_bit(fin.value(row, col[j], tile[r * LDT + 32 * j + lane]), t[j], mode[j]) : 0u;
        const uint32_t bits = __ballot_sync(0xffffffffu, bit != 0);
        if (lane == j) mine = bits;
      }
      if (lane < kWords && word0 + lane < words) out[m * ep.ldo + word0 + lane] = mine;
    }
    return;
  }
  const int c = tid % BN;
  const int64_t n = n0 + c;
  if (n >= N) return;
  const typename Finish::Col col = fin.col(cs, c, n);
  const bool f32 = ep.kind == XnorEpilogueArgs::Kind::affine;
  const float a = f32 ? ep.scale[n] : 0.f, b = f32 && ep.bias ? ep.bias[n] : 0.f;
#pragma unroll 4
  for (int r = tid / BN; r < BM; r += THREADS / BN) {
    const int64_t m = m0 + r;
    if (m >= M) break;
    const int32_t v = fin.value(fin.row(rs, r), col, tile[r * LDT + c]);
    if (f32)
      static_cast<float*>(ep.out)[m * ep.ldo + n] = affine_value(v, a, b);
    else
      static_cast<int32_t*>(ep.out)[m * ep.ldo + n] = v;
  }
}

}  // namespace lowbit::cuda::xnor
