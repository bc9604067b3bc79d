// Deterministic per-column reductions over a [rows, cols] matrix for the CUDA backend (bias
// gradients, batch-norm statistics), accumulating in double. Two launches, no atomics, so the
// result is bit-identical from run to run:
//   1. column_partials: grid (ceil(cols/32), splits), block (32, 8). Thread (tx, ty) of block
//      (bx, by) owns column bx·32 + tx and visits rows by·8 + ty, by·8 + ty + splits·8, ...; a
//      warp reads 32 consecutive columns of one row (coalesced). The 8 row-threads are combined in
//      shared memory in a fixed order and partial[by·cols + c] (NS doubles each) is written.
//   2. column_finish: one thread per column sums its `splits` partials in order and hands the NS
//      sums to a finisher.
// Napkin math: the matrix is read once (4 B per element per load functor read); partials are
// splits·cols·NS·8 B, small next to the matrix.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace lowbit::cuda::colred {

constexpr int kCols = 32;  // columns per block (one warp wide)
constexpr int kRows = 8;   // row-threads per block

// Row splits for a launch: enough blocks to fill the GPU (~1024), at least 64 rows per split.
inline int splits_for(int64_t rows, int64_t cols) {
  int64_t col_blocks = (cols + kCols - 1) / kCols;
  int64_t by_work = (rows + 63) / 64;
  int64_t by_fill = std::max<int64_t>(1, 1024 / std::max<int64_t>(col_blocks, 1));
  return static_cast<int>(std::clamp<int64_t>(std::min(by_work, by_fill), 1, 65535));
}

// load(r, c, acc): adds the NS values of element (r, c) to acc[0..NS).
template <int NS, typename Load>
__global__ void column_partials(int64_t rows, int64_t cols, Load load, double* partial) {
  __shared__ double sh[kRows][NS][kCols];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kCols + tx;
  double acc[NS];
#pragma unroll
  for (int s = 0; s < NS; ++s) acc[s] = 0.0;
  if (c < cols) {
    const int64_t step = static_cast<int64_t>(gridDim.y) * kRows;
    for (int64_t r = static_cast<int64_t>(blockIdx.y) * kRows + ty; r < rows; r += step) load(r, c, acc);
  }
#pragma unroll
  for (int s = 0; s < NS; ++s) sh[ty][s][tx] = acc[s];
  __syncthreads();
  if (ty == 0 && c < cols) {
#pragma unroll
    for (int s = 0; s < NS; ++s) {
      double v = sh[0][s][tx];
      for (int k = 1; k < kRows; ++k) v += sh[k][s][tx];
      partial[(static_cast<int64_t>(blockIdx.y) * cols + c) * NS + s] = v;
    }
  }
}

// finish(c, sums): consumes the NS column sums of column c.
template <int NS, typename Finish>
__global__ void column_finish(int64_t cols, int splits, const double* partial, Finish finish) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double sums[NS];
#pragma unroll
    for (int s = 0; s < NS; ++s) sums[s] = 0.0;
    for (int k = 0; k < splits; ++k)
#pragma unroll
      for (int s = 0; s < NS; ++s) sums[s] += partial[(static_cast<int64_t>(k) * cols + c) * NS + s];
    finish(c, sums);
  }
}

// Runs both passes on the current stream with scratch from the caching allocator (the buffer is
// returned to the cache after the launches are queued, which is stream-ordered and safe).
template <int NS, typename Load, typename Finish>
void reduce_columns(int64_t rows, int64_t cols, Load load, Finish finish) {
  if (cols <= 0) return;
  cudaStream_t stream = current_stream();
  int splits = splits_for(rows, cols);
  DeviceBuffer partial(static_cast<size_t>(splits) * static_cast<size_t>(cols) * NS * sizeof(double));
  dim3 block(kCols, kRows), grid(static_cast<unsigned>((cols + kCols - 1) / kCols), static_cast<unsigned>(splits));
  column_partials<NS><<<grid, block, 0, stream>>>(rows, cols, load, partial.as<double>());
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  column_finish<NS><<<grid_for(cols, 256), 256, 0, stream>>>(cols, splits, partial.as<const double>(), finish);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda::colred
