// CUDA loops over multi-bit codes (kernels/cuda/multibit_gemm.h): code -> int8 value conversion
// into zero-padded rows, and the im2col of NHWC codes (per-element rules in kernels/multibit_math.h).
// Grid-stride loops on the current stream; memory-bound (1 byte read, 1 written per element).
#include "core/error.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/multibit_gemm.h"

namespace lowbit::cuda {

namespace {

__global__ void k_codes_to_int8(const int8_t* __restrict__ codes, int64_t rows, int64_t k, CodeKind kind,
                                int8_t* __restrict__ dst, int64_t ld) {
  const int64_t n = rows * ld;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / ld, c = i % ld;
    dst[i] = c < k ? static_cast<int8_t>(code_value(kind, codes[r * k + c])) : int8_t{0};
  }
}

__global__ void k_im2col_codes(const int8_t* __restrict__ x, MultibitConvGeom g, int8_t* __restrict__ col) {
  const int64_t k = g.KH * g.KW * g.C, n = g.N * g.OH * g.OW * k;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t src = multibit_im2col_source(g, i / k, i % k);
    col[i] = src < 0 ? int8_t{0} : x[src];
  }
}

}  // namespace

void codes_to_int8(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int8_t* dst, int64_t ld_dst) {
  LOWBIT_CHECK(ld_dst >= k, "codes_to_int8: row stride ", ld_dst, " < k = ", k);
  if (rows == 0 || ld_dst == 0) return;
  k_codes_to_int8<<<stride_grid(rows * ld_dst), 256, 0, current_stream()>>>(codes, rows, k, kind, dst, ld_dst);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void im2col_codes(const int8_t* x, const MultibitConvGeom& g, int8_t* col) {
  const int64_t n = g.N * g.OH * g.OW * g.KH * g.KW * g.C;
  if (n == 0) return;
  k_im2col_codes<<<stride_grid(n), 256, 0, current_stream()>>>(x, g, col);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
