// CUDA binary convolution (kernels/cuda/xnor_conv.h): the implicit-im2col operand loader, the
// border-fixing finisher, the weight/pixel popcount pre-passes, and the launch through the GEMM
// kernel families (kernels/cuda/xnor_launch.cuh).
#include "kernels/cuda/xnor_conv.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "core/error.h"
#include "kernels/bit_math.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/xnor_launch.cuh"

namespace lowbit::cuda {

namespace {

using xnor::cp_async;
using xnor::GemmOperand;
using xnor::kRowInfoInts;
using xnor::swz;

// The window of output pixel m: batch index, top-left input position (may be negative).
struct Window {
  int n, iy0, ix0;
};

struct ConvDims {
  int H, W, C, cw, KH, KW, OH, OW, sh, sw, ph, pw;
  int64_t M;  // N·OH·OW output pixels

  __device__ Window window(int64_t m) const {
    const int64_t per_image = int64_t{OH} * OW;
    const int n = static_cast<int>(m / per_image), p = static_cast<int>(m % per_image);
    return {n, (p / OW) * sh - ph, (p % OW) * sw - pw};
  }
};

// The A operand: row m = output pixel m, word k = tap k / cw, channel word k % cw of that tap's
// input pixel, or zero outside the image. Per tile row, info holds {pixel base n·H·W (-1 past M),
// iy0, ix0}. G divides cw, so a G-word copy never straddles two taps.
template <int G>
struct ConvOperand {
  const uint32_t* x;
  ConvDims d;
  int64_t kw;  // KH·KW·cw

  __device__ void prepare(int* info, int64_t row0, int tid, int threads, int rows) const {
    for (int r = tid; r < rows; r += threads) {
      const int64_t m = row0 + r;
      int* in = info + r * kRowInfoInts;
      if (m >= d.M) {
        in[0] = -1;
        continue;
      }
      const Window w = d.window(m);
      in[0] = w.n * d.H * d.W;
      in[1] = w.iy0;
      in[2] = w.ix0;
    }
  }

  template <int ROWS, int THREADS>
  __device__ void load(uint32_t dst, int64_t /*row0*/, int64_t kword0, int tid, const int* info) const {
    constexpr int kStep = THREADS / 8;
    static_assert(ROWS % kStep == 0, "tile rows must be a multiple of THREADS/8");
    const int c = tid & 7;
#pragma unroll
    for (int g = 0; g < 4; g += G) {
      const int64_t k = kword0 + c * 4 + g;
      const bool k_valid = k < kw;
      const int tap = static_cast<int>(k / d.cw), cword = static_cast<int>(k % d.cw);
      const int ky = tap / d.KW, kx = tap % d.KW;
#pragma unroll
      for (int i = 0; i < ROWS / kStep; ++i) {
        const int r = tid / 8 + i * kStep;
        const int* in = info + r * kRowInfoInts;
        const int base = in[0], iy = in[1] + ky, ix = in[2] + kx;
        const bool valid = k_valid && base >= 0 && static_cast<unsigned>(iy) < static_cast<unsigned>(d.H) &&
                           static_cast<unsigned>(ix) < static_cast<unsigned>(d.W);
        const uint32_t* src = valid ? x + static_cast<int64_t>(base + iy * d.W + ix) * d.cw + cword : x;
        cp_async<G * 4>(dst + swz(r, c) + g * 4, src, valid ? G * 4 : 0);
      }
    }
  }
};

// Σ sign·sign of the whole gathered row (popcount form kAnd or XOR), minus, for a window that
// crosses the border, the tap sums of its taps outside the image: prefix[o] is the 2-D prefix
// table P[y][x] = Σ_{ky<y, kx<x} (C − 2·popc(w[o,ky,kx])), (KH+1)×(KW+1) ints per channel, copied
// into the tile's column scratch when it fits (kernels up to 5×5), else read from global memory.
// Row scratch: {popc of the gathered row (kAnd), ky_lo | ky_hi << 16, kx_lo | kx_hi << 16}.
template <bool kAnd>
struct ConvFinish {
  ConvDims d;
  int64_t k_bits, O;
  const int32_t* xpop;    // kAnd: popc of each input pixel
  const int32_t* pop_b;   // kAnd: popc of each weight row
  const int32_t* prefix;  // null: no padding (every window inside)

  struct Row {
    int32_t pop_a, ky, kx;  // ky/kx: lo | hi << 16
  };
  struct Col {
    int32_t pop_b, outside_all;  // outside_all: the whole window's tap sum P[KH][KW]
    const int32_t* P;
  };

  __device__ int table_ints() const { return (d.KH + 1) * (d.KW + 1); }
  __device__ bool staged() const { return prefix && table_ints() <= xnor::kColScratchInts; }

  __device__ void prepare(int* rs, int* cs, int64_t m0, int64_t n0, int tid, int threads, int rows,
                          int cols) const {
    for (int r = tid; r < rows; r += threads) {
      int* s = rs + r * kRowInfoInts;
      const int64_t m = m0 + r;
      if (m >= d.M) {
        s[0] = 0;
        s[1] = d.KH << 16;
        s[2] = d.KW << 16;
        continue;
      }
      const Window w = d.window(m);
      const int ky_lo = min(max(0, -w.iy0), d.KH), ky_hi = max(min(d.KH, d.H - w.iy0), ky_lo);
      const int kx_lo = min(max(0, -w.ix0), d.KW), kx_hi = max(min(d.KW, d.W - w.ix0), kx_lo);
      int32_t pa = 0;
      if (kAnd)
        for (int ky = ky_lo; ky < ky_hi; ++ky)
          for (int kx = kx_lo; kx < kx_hi; ++kx) pa += xpop[(int64_t{w.n} * d.H + w.iy0 + ky) * d.W + w.ix0 + kx];
      s[0] = pa;
      s[1] = ky_lo | (ky_hi << 16);
      s[2] = kx_lo | (kx_hi << 16);
    }
    if (staged()) {
      const int S = table_ints();
      for (int i = tid; i < cols * S; i += threads) {
        const int64_t n = n0 + i / S;
        cs[i] = n < O ? prefix[n * S + i % S] : 0;
      }
    }
  }

  __device__ Row row(const int* rs, int r) const {
    const int* s = rs + r * kRowInfoInts;
    return {s[0], s[1], s[2]};
  }

  __device__ Col col(const int* cs, int c, int64_t n) const {
    if (!prefix) return {kAnd ? pop_b[n] : 0, 0, nullptr};
    const int S = table_ints();
    const int32_t* P = staged() ? cs + c * S : prefix + n * S;
    return {kAnd ? pop_b[n] : 0, P[S - 1], P};
  }

  __device__ int32_t value(Row r, Col c, int32_t raw) const {
    int32_t v = kAnd ? xnor_dot_and(k_bits, r.pop_a, c.pop_b, raw) : xnor_dot(k_bits, raw);
    const int ky_lo = r.ky & 0xffff, ky_hi = r.ky >> 16, kx_lo = r.kx & 0xffff, kx_hi = r.kx >> 16;
    if (ky_lo == 0 && ky_hi == d.KH && kx_lo == 0 && kx_hi == d.KW) return v;  // window inside the image
    auto at = [&](int y, int x) { return c.P[y * (d.KW + 1) + x]; };
    const int32_t inside = at(ky_hi, kx_hi) - at(ky_lo, kx_hi) - at(ky_hi, kx_lo) + at(ky_lo, kx_lo);
    return v - (c.outside_all - inside);
  }
};

// One thread per output channel: popc of its weight row (pop_b, if wanted) and its prefix table
// of tap sums (if wanted).
__global__ void weight_stats_kernel(const uint32_t* w, int O, int KH, int KW, int C, int cw, int32_t* pop_b,
                                    int32_t* prefix) {
  const int o = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (o >= O) return;
  const uint32_t* wo = w + static_cast<int64_t>(o) * KH * KW * cw;
  int32_t* P = prefix ? prefix + static_cast<int64_t>(o) * (KH + 1) * (KW + 1) : nullptr;
  if (P)
    for (int x = 0; x <= KW; ++x) P[x] = 0;
  int32_t total = 0;
  for (int ky = 0; ky < KH; ++ky) {
    int32_t row = 0;
    if (P) P[(ky + 1) * (KW + 1)] = 0;
    for (int kx = 0; kx < KW; ++kx) {
      int32_t pc = 0;
      for (int i = 0; i < cw; ++i) pc += __popc(wo[(ky * KW + kx) * cw + i]);
      total += pc;
      row += xnor_dot(C, pc);  // the tap's Σ_c sign(w)
      if (P) P[(ky + 1) * (KW + 1) + kx + 1] = P[ky * (KW + 1) + kx + 1] + row;
    }
  }
  if (pop_b) pop_b[o] = total;
}

template <int G>
void conv_with(XnorCudaPath path, const uint32_t* x, const uint32_t* w, const cpu::BinaryConvGeom& g,
               const XnorEpilogueArgs& ep) {
  const int cw = static_cast<int>(packed_words(g.C));
  const int64_t M = g.N * g.OH * g.OW, taps = g.KH * g.KW, kw = taps * cw, k_bits = taps * g.C;
  const ConvDims d{static_cast<int>(g.H),  static_cast<int>(g.W),  static_cast<int>(g.C),  cw,
                   static_cast<int>(g.KH), static_cast<int>(g.KW), static_cast<int>(g.OH), static_cast<int>(g.OW),
                   static_cast<int>(g.sh), static_cast<int>(g.sw), static_cast<int>(g.ph), static_cast<int>(g.pw), M};
  const bool padded = g.ph > 0 || g.pw > 0, and_form = path != XnorCudaPath::popc;
  const int64_t prefix_ints = padded ? g.O * (g.KH + 1) * (g.KW + 1) : 0;
  const int64_t pop_b_ints = and_form ? g.O : 0, xpop_ints = and_form ? g.N * g.H * g.W : 0;
  DeviceBuffer scratch(static_cast<size_t>(std::max<int64_t>(prefix_ints + pop_b_ints + xpop_ints, 1)) * 4);
  int32_t* prefix = padded ? scratch.as<int32_t>() : nullptr;
  int32_t* pop_b = and_form ? scratch.as<int32_t>() + prefix_ints : nullptr;
  int32_t* xpop = and_form ? pop_b + pop_b_ints : nullptr;
  if (padded || and_form) {
    weight_stats_kernel<<<static_cast<unsigned>((g.O + 127) / 128), 128, 0, current_stream()>>>(
        w, static_cast<int>(g.O), d.KH, d.KW, d.C, cw, pop_b, prefix);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
  }
  if (and_form) xnor_row_popcounts(x, cw, g.N * g.H * g.W, cw, xpop);

  const ConvOperand<G> la{x, d, kw};
  const GemmOperand<G> lb{w, kw, g.O, kw};
  if (!and_form) return xnor::run_popc(la, lb, ConvFinish<false>{d, k_bits, g.O, nullptr, nullptr, prefix}, ep, M, g.O, kw);
  const ConvFinish<true> fin{d, k_bits, g.O, xpop, pop_b, prefix};
  if (path == XnorCudaPath::wgmma) return xnor::run_wgmma(la, lb, fin, ep, M, g.O, kw);
  xnor::run_mma(la, lb, fin, ep, M, g.O, kw);
}

}  // namespace

void xnor_conv2d(const uint32_t* x, const uint32_t* w, const cpu::BinaryConvGeom& g, const XnorEpilogueArgs& ep,
                 XnorCudaPath path) {
  LOWBIT_CHECK(g.N >= 0 && g.H >= 1 && g.W >= 1 && g.C >= 1 && g.O >= 0 && g.KH >= 1 && g.KW >= 1 && g.sh >= 1 &&
                   g.sw >= 1 && g.ph >= 0 && g.pw >= 0 && g.OH >= 0 && g.OW >= 0,
               "xnor_conv2d (CUDA): bad geometry");
  LOWBIT_CHECK(g.N * g.H * g.W < (int64_t{1} << 31) && g.KH < 0x8000 && g.KW < 0x8000 && g.H < (1 << 30) &&
                   g.W < (1 << 30),
               "xnor_conv2d (CUDA): input ", g.N, "x", g.H, "x", g.W, " or kernel ", g.KH, "x", g.KW,
               " too large for the 32-bit pixel indexing");
  const int64_t M = g.N * g.OH * g.OW, cw = packed_words(g.C), k_bits = g.KH * g.KW * g.C;
  if (M == 0 || g.O == 0) return;
  path = resolve_xnor_cuda_path(path, M, g.O, k_bits);
  if (g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0)
    return xnor_gemm(M, g.O, cw, g.C, x, cw, w, cw, ep, path);  // x is its own column matrix
  auto aligned = [](const void* p, int bytes) { return (reinterpret_cast<uintptr_t>(p) % bytes) == 0; };
  if (cw % 4 == 0 && aligned(x, 16) && aligned(w, 16)) return conv_with<4>(path, x, w, g, ep);
  if (cw % 2 == 0 && aligned(x, 8) && aligned(w, 8)) return conv_with<2>(path, x, w, g, ep);
  conv_with<1>(path, x, w, g, ep);
}

}  // namespace lowbit::cuda
