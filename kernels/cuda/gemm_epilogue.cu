// CUDA GEMM epilogues of kernels/cuda/gemm.h: bias add y[r, c] += bias[c] (grid-stride over the
// [rows, cols] matrix; the bias row stays in L1/L2) and the bias gradient out[c] = Σ_r g[r, c]
// (two-pass deterministic column reduction in double, kernels/cuda/column_reduce.cuh).
// Napkin math (f32): bias add reads and writes y = 8 B/elem; column sums read g once = 4 B/elem.
// Both are memory-bound: at ~3 TB/s, 1 M elements take ~3 µs (bias add) and ~1.5 µs (sums).
// The per-element formulas are kernels/gemm_math.h, shared with kernels/cpu/gemm.cpp.
#include "kernels/cuda/check.h"
#include "kernels/cuda/column_reduce.cuh"
#include "kernels/cuda/context.h"
#include "kernels/cuda/gemm.h"
#include "kernels/gemm_math.h"

namespace lowbit::cuda {

namespace {

__global__ void add_row_bias_kernel(float* y, int64_t ldy, const float* bias, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = i / cols, c = i - r * cols;
    y[r * ldy + c] = bias_add(y[r * ldy + c], bias[c]);
  }
}

struct LoadStrided {
  const float* g;
  int64_t ld;
  __device__ void operator()(int64_t r, int64_t c, double (&acc)[1]) const { acc[0] += g[r * ld + c]; }
};

struct StoreSum {
  float* out;
  bool accumulate;
  __device__ void operator()(int64_t c, const double (&s)[1]) const {
    out[c] = column_sum_value(s[0], accumulate ? out[c] : 0.f, accumulate);
  }
};

}  // namespace

void add_row_bias(float* y, int64_t ldy, const float* bias, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  add_row_bias_kernel<<<grid_for(rows * cols), 256, 0, current_stream()>>>(y, ldy, bias, rows, cols);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void column_sums(const float* g, int64_t ldg, int64_t rows, int64_t cols, float* out, bool accumulate) {
  colred::reduce_columns<1>(rows, cols, LoadStrided{g, ldg}, StoreSum{out, accumulate});
}

}  // namespace lowbit::cuda
