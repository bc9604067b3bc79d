// CUDA bit-serial multi-bit GEMM (kernels/cuda/multibit_gemm.h): the plane packer, the per-row
// init terms, and one XNOR-kernel launch per plane pair (xnor_launch.cuh: popc, mma or wgmma)
// whose finisher adds the pair's weighted AND popcounts into the int32 output in the store phase.
// Per-element math (plane bits and words, the AND-form combine): kernels/multibit_math.h.
// Napkin math: P·Q binary GEMMs of 2·M·N·K bit ops each (u3 × pow2(3): 12 pairs, u1 × binary: 1),
// and per pair C written (4·M·N bytes) and, after the first pair, read (4·M·N more) in the store
// phase. On an H100 (binary tensor cores ~3 Pop/s measured through wgmma, HBM ~3 TB/s) the C
// traffic of a pair costs ~4000/K of its GEMM time when nothing overlaps it — ~½ at K = 8192 with
// the wgmma kernel's unoverlapped store phase, less on the two-blocks-per-SM mma path. Keeping the
// running sums in registers across pairs (a kernel that loops the pairs) would remove it; the
// tensor-core accumulators leave no registers for that at the current tile sizes. The packing
// reads each code once and writes P words per 32 codes.
#include <cuda_runtime.h>

#include <limits>

#include "core/error.h"
#include "kernels/bit_math.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/multibit_gemm.h"
#include "kernels/cuda/xnor_launch.cuh"

namespace lowbit::cuda {

namespace {

using xnor::GemmOperand;
using xnor::kRowInfoInts;

constexpr int64_t kPlaneAlignWords = 4;  // plane rows padded to 16 bytes: 128-bit cp.async loads

// Thread i: word i % ldw of every plane of row i / ldw.
__global__ void k_pack_planes(const int8_t* __restrict__ codes, int64_t rows, int64_t k, int64_t ld, CodeKind kind,
                              int P, uint32_t* __restrict__ planes, int64_t ldw) {
  const int64_t n = rows * ldw;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / ldw, w = i % ldw;
    uint32_t words[kMaxPlanes];
    plane_words(kind, P, codes + r * ld, k, w, words);
    for (int p = 0; p < P; ++p) planes[(p * rows + r) * ldw + w] = words[p];
  }
}

// The init term of every row of one operand from its plane popcounts (popc[p·rows + r]): the
// row part o_b·sa (col = false, operand A) or the column part o_a·sb + k·o_a·o_b (operand B).
__global__ void k_init_terms(const int32_t* __restrict__ popc, int64_t rows, CodeKind kind, int bits, bool col,
                             int64_t k, int32_t offset_a, int32_t offset_b, uint32_t* __restrict__ init) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t s = plane_value_sum(kind, bits, popc + r, rows);
    init[r] = col ? bitserial_and_col_init(s, k, offset_a, offset_b) : bitserial_and_row_init(s, offset_b);
  }
}

// Finisher of plane pair (p, q) (the Finish policy of xnor_tile.cuh): turns the kernel's raw sum
// into popc(a_p ∧ b_q) (kAnd: the tensor cores' sum already is; else from popc(a ⊕ b) and the
// row counts) and returns the running sum plus weight·that, which the store phase writes back
// over the element it read (the same thread reads and writes each output). The first pair starts
// from the init terms instead of C.
template <bool kAnd>
struct PairFinish {
  const int32_t* pop_a;    // [M] popcounts of plane p of A
  const int32_t* pop_b;    // [N] of plane q of B
  const uint32_t* init_a;  // [M] row parts of the init term
  const uint32_t* init_b;  // [N] column parts
  const int32_t* sums;     // C, the running sums; null for the first pair
  int64_t M, ldc;
  int32_t weight;  // c_p·d_q

  struct Row {
    int32_t pop;
    uint32_t init;
    int64_t m;
  };
  struct Col {
    int32_t pop;
    uint32_t init;
    int64_t n;
  };
  // Row scratch: {popc, init, m} (m < 2^31: the host checks M).
  __device__ void prepare(int* rs, int*, int64_t m0, int64_t, int tid, int threads, int rows, int) const {
    for (int r = tid; r < rows; r += threads) {
      const int64_t m = m0 + r;
      const bool in = m < M;
      int* s = rs + r * kRowInfoInts;
      s[0] = in ? pop_a[m] : 0;
      s[1] = in && !sums ? static_cast<int>(init_a[m]) : 0;
      s[2] = static_cast<int>(m);
    }
  }
  __device__ Row row(const int* rs, int r) const {
    const int* s = rs + r * kRowInfoInts;
    return {s[0], static_cast<uint32_t>(s[1]), s[2]};
  }
  __device__ Col col(const int*, int, int64_t n) const { return {pop_b[n], sums ? 0u : init_b[n], n}; }
  __device__ int32_t value(Row r, Col c, int32_t raw) const {
    const int32_t both = kAnd ? raw : popc_and_from_xor(r.pop, c.pop, raw);
    const uint32_t before = sums ? static_cast<uint32_t>(sums[r.m * ldc + c.n]) : r.init + c.init;
    return bitserial_and_finish(bitserial_and_step(before, weight, both));
  }
};

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

void pack_code_planes(const int8_t* codes, int64_t rows, int64_t k, int64_t ld, CodeKind kind, int bits,
                      uint32_t* planes, int64_t ldw, int32_t* popc) {
  LOWBIT_CHECK(rows >= 0 && k >= 0 && ld >= k && ldw >= packed_words(k), "cuda pack_code_planes: bad sizes rows = ",
               rows, ", k = ", k, ", ld = ", ld, ", ldw = ", ldw);
  LOWBIT_CHECK(code_format_ok(kind, bits), "cuda pack_code_planes: bad code format");
  if (rows == 0) return;
  const int P = plane_count(kind, bits);
  if (ldw > 0) {
    k_pack_planes<<<stride_grid(rows * ldw), 256, 0, current_stream()>>>(codes, rows, k, ld, kind, P, planes, ldw);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
  }
  xnor_row_popcounts(planes, ldw, P * rows, packed_words(k), popc);
}

void bitserial_gemm_planes(int64_t M, int64_t N, int64_t K, const DevicePlanes& a, const DevicePlanes& b, int32_t* C,
                           int64_t ldc, XnorCudaPath path) {
  const int64_t kw = packed_words(K);
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && ldc >= N && a.ldw >= kw && b.ldw >= kw,
               "cuda bitserial_gemm: bad sizes M = ", M, ", N = ", N, ", K = ", K, ", ldc = ", ldc, ", plane strides ",
               a.ldw, " and ", b.ldw, " words");
  LOWBIT_CHECK(a.ldw % kPlaneAlignWords == 0 && b.ldw % kPlaneAlignWords == 0 && aligned16(a.planes, b.planes),
               "cuda bitserial_gemm: plane rows must be 16-byte aligned (stride a multiple of 4 words), got strides ",
               a.ldw, " and ", b.ldw);
  LOWBIT_CHECK(code_format_ok(a.kind, a.bits) && code_format_ok(b.kind, b.bits), "cuda bitserial_gemm: bad code format");
  LOWBIT_CHECK(M <= std::numeric_limits<int32_t>::max() && K < (int64_t{1} << 30), "cuda bitserial_gemm: M = ", M,
               " must be < 2^31 and K = ", K, " < 2^30");
  if (M == 0 || N == 0) return;
  path = resolve_xnor_cuda_path(path, M, N, K);
  const int P = plane_count(a.kind, a.bits), Q = plane_count(b.kind, b.bits);
  const int32_t oa = plane_offset(a.kind), ob = plane_offset(b.kind);
  DeviceBuffer init_a(static_cast<size_t>(M) * 4), init_b(static_cast<size_t>(N) * 4);
  k_init_terms<<<stride_grid(M), 256, 0, current_stream()>>>(a.popc, M, a.kind, a.bits, false, K, oa, ob,
                                                               init_a.as<uint32_t>());
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  k_init_terms<<<stride_grid(N), 256, 0, current_stream()>>>(b.popc, N, b.kind, b.bits, true, K, oa, ob,
                                                               init_b.as<uint32_t>());
  LOWBIT_CUDA_CHECK(cudaGetLastError());

  XnorEpilogueArgs ep;
  ep.kind = XnorEpilogueArgs::Kind::i32;
  ep.out = C;
  ep.ldo = ldc;
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      // Plane p of A and plane q of B: [M, ldw] and [N, ldw] b1 matrices with 16-byte aligned rows.
      const GemmOperand<4> la{a.planes + p * M * a.ldw, a.ldw, M, kw};
      const GemmOperand<4> lb{b.planes + q * N * b.ldw, b.ldw, N, kw};
      const int32_t weight = plane_coef(a.kind, a.bits, p) * plane_coef(b.kind, b.bits, q);
      const int32_t* sums = p == 0 && q == 0 ? nullptr : C;
      const int32_t* pa = a.popc + p * M;
      const int32_t* pb = b.popc + q * N;
      if (path == XnorCudaPath::popc) {
        const PairFinish<false> fin{pa, pb, init_a.as<uint32_t>(), init_b.as<uint32_t>(), sums, M, ldc, weight};
        xnor::run_popc(la, lb, fin, ep, M, N, kw);
      } else {
        const PairFinish<true> fin{pa, pb, init_a.as<uint32_t>(), init_b.as<uint32_t>(), sums, M, ldc, weight};
        if (path == XnorCudaPath::wgmma) xnor::run_wgmma(la, lb, fin, ep, M, N, kw);
        else xnor::run_mma(la, lb, fin, ep, M, N, kw);
      }
    }
}

void bitserial_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A_codes, int64_t lda, CodeKind ka, int a_bits,
                    const int8_t* B_codes, int64_t ldb, CodeKind kb, int b_bits, int32_t* C, int64_t ldc,
                    XnorCudaPath path) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && lda >= K && ldb >= K, "cuda bitserial_gemm: bad sizes M = ", M, ", N = ",
               N, ", K = ", K, ", lda = ", lda, ", ldb = ", ldb);
  LOWBIT_CHECK(code_format_ok(ka, a_bits) && code_format_ok(kb, b_bits), "cuda bitserial_gemm: bad code format");
  if (M == 0 || N == 0) return;
  const int P = plane_count(ka, a_bits), Q = plane_count(kb, b_bits);
  const int64_t ldw = round_up(packed_words(K), kPlaneAlignWords);
  DeviceBuffer planes_a(static_cast<size_t>(P * M * ldw) * 4), planes_b(static_cast<size_t>(Q * N * ldw) * 4);
  DeviceBuffer popc_a(static_cast<size_t>(P * M) * 4), popc_b(static_cast<size_t>(Q * N) * 4);
  pack_code_planes(A_codes, M, K, lda, ka, a_bits, planes_a.as<uint32_t>(), ldw, popc_a.as<int32_t>());
  pack_code_planes(B_codes, N, K, ldb, kb, b_bits, planes_b.as<uint32_t>(), ldw, popc_b.as<int32_t>());
  bitserial_gemm_planes(M, N, K, {planes_a.as<uint32_t>(), ldw, popc_a.as<int32_t>(), ka, a_bits},
                        {planes_b.as<uint32_t>(), ldw, popc_b.as<int32_t>(), kb, b_bits}, C, ldc, path);
}

}  // namespace lowbit::cuda
