// CUDA batch normalization (kernels/cuda/norm.h), channel-last [rows, C]. Chosen over cuDNN's
// batch norm to keep the CPU contract exactly: double accumulation, two-pass variance, the same
// folded y = x·scale + shift, the same closed-form backward, null gamma/beta.
//   stats:    pass 1 Σx (deterministic column reduction, kernels/cuda/column_reduce.cuh) -> mean
//             (kept in double for pass 2), pass 2 Σ(x − mean)² -> biased var.
//   forward:  per-channel scale/shift (double, rounded to f32 as on the CPU), then one
//             elementwise pass y = x·scale + shift with round-to-nearest mul and add (no FMA
//             contraction, bit-identical to the CPU).
// The per-channel and per-element formulas are kernels/norm_math.h, shared with the CPU loops.
//   backward: one reduction pass for Σgy and Σgy·xhat, then one elementwise pass for gx.
//   backward_x: the gx pass alone, from given whole-batch means of those sums (sync batch norm).
// Napkin math (f32): stats read x twice = 8 B/elem; forward reads x, writes y = 8 B/elem;
// backward reads x, gy twice and writes gx = 20 B/elem. Memory-bound (a few flops per element,
// some in double, which H100 runs at half the f32 rate — still far below the memory time).
#include "kernels/cuda/check.h"
#include "kernels/cuda/column_reduce.cuh"
#include "kernels/cuda/context.h"
#include "kernels/cuda/norm.h"
#include "kernels/norm_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

// Calls body(i, c) for every element i of a [rows, channels] array, c = i mod channels kept
// incrementally (one 64-bit division per thread, not per element).
template <typename Body>
__device__ void for_each_elem(int64_t n, int64_t channels, Body body) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if (i >= n) return;
  int64_t c = i % channels;
  const int64_t step_c = step % channels;
  for (; i < n; i += step) {
    body(i, c);
    c += step_c;
    if (c >= channels) c -= channels;
  }
}

struct LoadSum {
  const float* x;
  int64_t channels;
  __device__ void operator()(int64_t r, int64_t c, double (&acc)[1]) const { acc[0] += x[r * channels + c]; }
};
struct FinishMean {
  double inv_rows;
  double* mean_d;
  float* mean;
  __device__ void operator()(int64_t c, const double (&s)[1]) const {
    double m = s[0] * inv_rows;
    mean_d[c] = m;
    mean[c] = static_cast<float>(m);
  }
};
struct LoadSquares {
  const float* x;
  int64_t channels;
  const double* mean_d;
  __device__ void operator()(int64_t r, int64_t c, double (&acc)[1]) const {
    double d = x[r * channels + c] - mean_d[c];
    acc[0] += d * d;
  }
};
struct FinishVar {
  double inv_rows;
  float* var;
  __device__ void operator()(int64_t c, const double (&s)[1]) const { var[c] = static_cast<float>(s[0] * inv_rows); }
};

__global__ void scale_shift_kernel(int64_t channels, const float* mean, const float* var, float eps,
                                   const float* gamma, const float* beta, float* scale, float* shift) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    bn_scale_shift(mean[c], bn_inv_std(var[c], eps), gamma ? gamma + c : nullptr, beta ? beta + c : nullptr, scale[c],
                   shift[c]);
  }
}

__global__ void normalize_kernel(const float* x, int64_t n, int64_t channels, const float* scale, const float* shift,
                                 float* y) {
  for_each_elem(n, channels, [&](int64_t i, int64_t c) { y[i] = bn_normalize(x[i], scale[c], shift[c]); });
}

struct LoadGrad {
  const float* x;
  const float* gy;
  int64_t channels;
  const float* mean;
  const double* is;
  __device__ void operator()(int64_t r, int64_t c, double (&acc)[2]) const {
    int64_t e = r * channels + c;
    double g = gy[e];
    acc[0] += g;
    acc[1] += bn_grad_xhat_term(g, x[e], mean[c], is[c]);
  }
};
struct FinishGrad {
  float* gbeta;
  float* ggamma;
  double* sums;  // [channels, 2]: Σgy, Σgy·xhat
  __device__ void operator()(int64_t c, const double (&s)[2]) const {
    if (gbeta) gbeta[c] = static_cast<float>(s[0]);
    if (ggamma) ggamma[c] = static_cast<float>(s[1]);
    sums[2 * c] = s[0];
    sums[2 * c + 1] = s[1];
  }
};

__global__ void inv_std_kernel(int64_t channels, const float* var, float eps, double* is) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x)
    is[c] = bn_inv_std(var[c], eps);
}

__global__ void grad_x_kernel(const float* x, const float* gy, int64_t n, int64_t channels, const float* mean,
                              const double* is, const float* gamma, const double* sums, double inv_rows,
                              bool training, float* gx) {
  for_each_elem(n, channels, [&](int64_t i, int64_t c) {
    gx[i] = bn_grad_x(x[i], gy[i], mean[c], is[c], gamma ? gamma + c : nullptr, sums[2 * c], sums[2 * c + 1], inv_rows,
                      training);
  });
}

__global__ void grad_x_given_means_kernel(const float* x, const float* gy, int64_t n, int64_t channels,
                                          const float* mean, const double* is, const float* gamma,
                                          const float* mean_g, const float* mean_gx, float* gx) {
  for_each_elem(n, channels, [&](int64_t i, int64_t c) {
    gx[i] = bn_grad_x(x[i], gy[i], mean[c], is[c], gamma ? gamma + c : nullptr, mean_g[c], mean_gx[c], 1.0, true);
  });
}

}  // namespace

void batch_norm_stats(const float* x, int64_t rows, int64_t channels, float* mean, float* var) {
  if (channels <= 0) return;
  double inv_rows = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  DeviceBuffer mean_d(static_cast<size_t>(channels) * sizeof(double));
  colred::reduce_columns<1>(rows, channels, LoadSum{x, channels}, FinishMean{inv_rows, mean_d.as<double>(), mean});
  colred::reduce_columns<1>(rows, channels, LoadSquares{x, channels, mean_d.as<const double>()},
                            FinishVar{inv_rows, var});
}

void batch_norm_forward(const float* x, int64_t rows, int64_t channels, const float* mean, const float* var,
                        float eps, const float* gamma, const float* beta, float* y) {
  if (channels <= 0 || rows <= 0) return;
  cudaStream_t stream = current_stream();
  DeviceBuffer ss(2 * static_cast<size_t>(channels) * sizeof(float));
  float* scale = ss.as<float>();
  float* shift = scale + channels;
  scale_shift_kernel<<<grid_for(channels), kThreads, 0, stream>>>(channels, mean, var, eps, gamma, beta, scale, shift);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  int64_t n = rows * channels;
  normalize_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, n, channels, scale, shift, y);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void batch_norm_backward(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                         const float* var, float eps, const float* gamma, bool training, float* gx, float* ggamma,
                         float* gbeta) {
  if (channels <= 0) return;
  cudaStream_t stream = current_stream();
  DeviceBuffer scratch(3 * static_cast<size_t>(channels) * sizeof(double));
  double* is = scratch.as<double>();
  double* sums = is + channels;
  inv_std_kernel<<<grid_for(channels), kThreads, 0, stream>>>(channels, var, eps, is);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  if (ggamma || gbeta || (gx && training))
    colred::reduce_columns<2>(rows, channels, LoadGrad{x, gy, channels, mean, is}, FinishGrad{gbeta, ggamma, sums});
  if (!gx || rows <= 0) return;
  double inv_rows = 1.0 / static_cast<double>(rows);
  int64_t n = rows * channels;
  grad_x_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, gy, n, channels, mean, is, gamma, sums, inv_rows, training,
                                                     gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void batch_norm_backward_x(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                           const float* var, float eps, const float* gamma, const float* mean_g,
                           const float* mean_gx, float* gx) {
  if (channels <= 0 || rows <= 0) return;
  cudaStream_t stream = current_stream();
  DeviceBuffer scratch(static_cast<size_t>(channels) * sizeof(double));
  double* is = scratch.as<double>();
  inv_std_kernel<<<grid_for(channels), kThreads, 0, stream>>>(channels, var, eps, is);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  int64_t n = rows * channels;
  grad_x_given_means_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, gy, n, channels, mean, is, gamma, mean_g,
                                                                 mean_gx, gx);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
