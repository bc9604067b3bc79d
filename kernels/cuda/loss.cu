// CUDA softmax and cross-entropy (kernels/cuda/loss.h), mirroring kernels/cpu/loss.cpp's math
// (f32 max, double exp-sums and dot products; the per-element expressions are kernels/loss_math.h,
// shared with the CPU loops).
//   softmax, inner == 1 (the usual last axis): one warp per row, lanes stride over K; three
//     sweeps (max, exp-sum, write) — the row stays in L1/L2 after the first.
//   softmax, inner > 1: one thread per (outer, inner) column, looping over K; a warp reads 32
//     consecutive inner positions (coalesced).
//   cross-entropy: one warp per row (max, Σx, Σexp, loss term into a double scratch, gradient
//     row), then one block sums the N row losses in a fixed order (deterministic).
// Napkin math (f32): softmax forward reads x (4 B, re-reads hit cache) and writes y (4 B) =
// 8 B/elem; backward reads y, gy, writes gx = 12 B/elem; cross-entropy reads logits and writes
// grad = 8 B/elem. One double exp per element per sweep that needs it: H100's f64 rate keeps this
// under the memory time for the usual K.
#include <cstdint>
#include <limits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/loss.h"
#include "kernels/loss_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;
constexpr unsigned long long kNoBad = ~0ull;

__device__ float warp_max(float v) {
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ double warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Rows handled by this warp: row, row + step, ...
__device__ int64_t first_row() { return (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; }
__device__ int64_t row_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x / 32; }

__global__ void softmax_rows_kernel(const float* x, int64_t rows, int64_t k, bool log, float* y) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = first_row(); r < rows; r += row_step()) {
    const float* xr = x + r * k;
    float* yr = y + r * k;
    float mx = -INFINITY;
    for (int64_t j = lane; j < k; j += 32) mx = fmaxf(mx, xr[j]);
    mx = warp_max(mx);
    double sum = 0.0;
    for (int64_t j = lane; j < k; j += 32) sum += exp_shifted(xr[j], mx);
    sum = warp_sum(sum);
    const double log_sum = log ? ::log(sum) : 0.0;
    for (int64_t j = lane; j < k; j += 32) yr[j] = softmax_value(xr[j], mx, sum, log_sum, log);
  }
}

__global__ void softmax_cols_kernel(const float* x, int64_t outer, int64_t k, int64_t inner, bool log, float* y) {
  const int64_t n = outer * inner;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = t / inner, i = t - o * inner;
    const float* xc = x + o * k * inner + i;
    float* yc = y + o * k * inner + i;
    float mx = -INFINITY;
    for (int64_t j = 0; j < k; ++j) mx = fmaxf(mx, xc[j * inner]);
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) sum += exp_shifted(xc[j * inner], mx);
    const double log_sum = log ? ::log(sum) : 0.0;
    for (int64_t j = 0; j < k; ++j) yc[j * inner] = softmax_value(xc[j * inner], mx, sum, log_sum, log);
  }
}

__global__ void softmax_back_rows_kernel(const float* y, const float* gy, int64_t rows, int64_t k, bool log,
                                         float* gx) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = first_row(); r < rows; r += row_step()) {
    const int64_t base = r * k;
    double dot = 0.0;
    for (int64_t j = lane; j < k; j += 32) dot += softmax_dot_term(y[base + j], gy[base + j], log);
    dot = warp_sum(dot);
    for (int64_t j = lane; j < k; j += 32) gx[base + j] = softmax_grad(y[base + j], gy[base + j], dot, log);
  }
}

__global__ void softmax_back_cols_kernel(const float* y, const float* gy, int64_t outer, int64_t k, int64_t inner,
                                         bool log, float* gx) {
  const int64_t n = outer * inner;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = t / inner, i = t - o * inner;
    const int64_t base = o * k * inner + i;
    double dot = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t e = base + j * inner;
      dot += softmax_dot_term(y[e], gy[e], log);
    }
    for (int64_t j = 0; j < k; ++j) {
      int64_t e = base + j * inner;
      gx[e] = softmax_grad(y[e], gy[e], dot, log);
    }
  }
}

__global__ void cross_entropy_rows_kernel(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                                          double eps, float* grad, double* row_loss, unsigned long long* bad) {
  const int lane = threadIdx.x & 31;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (int64_t r = first_row(); r < n; r += row_step()) {
    const int32_t label = labels[r];
    if (label < 0 || label >= k) {
      if (lane == 0) atomicMin(bad, static_cast<unsigned long long>(r));
      continue;
    }
    const float* row = logits + r * k;
    double mx = -INFINITY, sum_x = 0.0;
    for (int64_t j = lane; j < k; j += 32) {
      mx = fmax(mx, double{row[j]});
      sum_x += row[j];
    }
    for (int off = 16; off > 0; off >>= 1) mx = fmax(mx, __shfl_xor_sync(0xffffffffu, mx, off));
    sum_x = warp_sum(sum_x);
    double se = 0.0;
    for (int64_t j = lane; j < k; j += 32) se += exp_shifted(row[j], mx);
    se = warp_sum(se);
    const double lse = mx + ::log(se);
    if (lane == 0) row_loss[r] = cross_entropy_row_loss(lse, row[label], sum_x, k, eps);
    if (grad)
      for (int64_t j = lane; j < k; j += 32) grad[r * k + j] = cross_entropy_grad(row[j], lse, j == label, k, eps, inv_n);
  }
}

// One block: loss = Σ row_loss / n in a fixed order.
__global__ void mean_kernel(const double* row_loss, int64_t n, const unsigned long long* bad, float* loss) {
  __shared__ double part[kThreads];
  double acc = 0.0;
  for (int64_t r = threadIdx.x; r < n; r += kThreads) acc += row_loss[r];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) *loss = *bad == kNoBad ? static_cast<float>(part[0] / static_cast<double>(n)) : NAN;
}

unsigned rows_grid(int64_t rows) { return grid_for(rows * 32, kThreads); }

}  // namespace

void softmax_forward(const float* x, int64_t outer, int64_t k, int64_t inner, bool log, float* y) {
  if (outer <= 0 || k <= 0 || inner <= 0) return;
  cudaStream_t stream = current_stream();
  if (inner == 1)
    softmax_rows_kernel<<<rows_grid(outer), kThreads, 0, stream>>>(x, outer, k, log, y);
  else
    softmax_cols_kernel<<<grid_for(outer * inner), kThreads, 0, stream>>>(x, outer, k, inner, log, y);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void softmax_backward(const float* y, const float* gy, int64_t outer, int64_t k, int64_t inner, bool log,
                      float* gx) {
  if (outer <= 0 || k <= 0 || inner <= 0) return;
  cudaStream_t stream = current_stream();
  if (inner == 1)
    softmax_back_rows_kernel<<<rows_grid(outer), kThreads, 0, stream>>>(y, gy, outer, k, log, gx);
  else
    softmax_back_cols_kernel<<<grid_for(outer * inner), kThreads, 0, stream>>>(y, gy, outer, k, inner, log, gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

int64_t cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t k, float smoothing,
                              float* loss, float* grad) {
  if (n <= 0 || k <= 0) return -1;
  cudaStream_t stream = current_stream();
  DeviceBuffer scratch(static_cast<size_t>(n) * sizeof(double) + sizeof(unsigned long long));
  auto* bad = reinterpret_cast<unsigned long long*>(scratch.as<char>() + static_cast<size_t>(n) * sizeof(double));
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), stream));  // kNoBad
  cross_entropy_rows_kernel<<<rows_grid(n), kThreads, 0, stream>>>(logits, labels, n, k, double{smoothing}, grad,
                                                                   scratch.as<double>(), bad);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  mean_kernel<<<1, kThreads, 0, stream>>>(scratch.as<const double>(), n, bad, loss);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  // The documented single synchronization: read the 8-byte bad-row flag back.
  unsigned long long first_bad = kNoBad;
  LOWBIT_CUDA_CHECK(cudaMemcpyAsync(&first_bad, bad, sizeof first_bad, cudaMemcpyDeviceToHost, stream));
  LOWBIT_CUDA_CHECK(cudaStreamSynchronize(stream));
  return first_bad == kNoBad ? -1 : static_cast<int64_t>(first_bad);
}

}  // namespace lowbit::cuda
