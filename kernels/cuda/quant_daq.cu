// DAQ quantizer CUDA kernels: the weight-statistics reduction, the fused forward and the fused
// backward (closed form, spec §3.2), with the per-element math of kernels/quant/daq_math.h.
// Napkin math (64 M fp32 elements, H100 ≈ 3.3 TB/s):
//   stats pass (weights only): 4 B/elem read; forward: 8 B/elem (x read, y written);
//   backward: 12 B/elem (x, g read, dx written; the forward's {mean, std} are reused, no second
//   stats pass). Floor forward+backward = 20 B/elem (+4 for the weights' stats pass).
//   Compute: forward ~10 flops/elem, backward 2 exp + ~20 flops/elem: memory bound.
// l, u and the statistics are read from device memory; the parameter gradients are reduced per
// block (warp shuffle + shared memory) into double accumulators with one atomicAdd per block,
// then a one-thread kernel writes them as f32 scalars. No host synchronization.
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/quant_daq.h"

namespace lowbit::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t work) {
  int64_t blocks = (work + kThreads - 1) / kThreads;
  if (blocks > 132 * 8) blocks = 132 * 8;  // grid-stride beyond a few waves of an H100
  return static_cast<int>(blocks < 1 ? 1 : blocks);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

__device__ __forceinline__ double warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// Sums (a, b) over the block and adds the totals into acc[0], acc[1] (thread 0, one atomic each).
__device__ __forceinline__ void block_sum2_atomic(double a, double b, double* acc) {
  __shared__ double sa[kThreads / 32], sb[kThreads / 32];
  a = warp_sum(a);
  b = warp_sum(b);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    a = lane < kThreads / 32 ? sa[lane] : 0.0;
    b = lane < kThreads / 32 ? sb[lane] : 0.0;
    a = warp_sum(a);
    b = warp_sum(b);
    if (lane == 0) {
      atomicAdd(&acc[0], a);
      atomicAdd(&acc[1], b);
    }
  }
}

// ---- statistics ----
__global__ void stats_reduce_kernel(const float* __restrict__ w, int64_t n, double* acc) {
  const double shift = w[0];
  double s1 = 0.0, s2 = 0.0;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    double d = static_cast<double>(w[i]) - shift;
    s1 += d;
    s2 += d * d;
  }
  block_sum2_atomic(s1, s2, acc);
}

__global__ void stats_finish_kernel(const float* w, int64_t n, const double* acc, float* stats) {
  daq_finish_stats(static_cast<double>(n), static_cast<double>(w[0]), acc[0], acc[1], &stats[0], &stats[1]);
}

// ---- forward ----
struct FwdScalars {
  float mean, std, l, u, delta;
};

__device__ __forceinline__ FwdScalars load_scalars(const float* l, const float* u, const float* stats,
                                                   const DaqConsts& k) {
  FwdScalars s;
  s.l = *l;
  s.u = *u;
  s.mean = stats ? stats[0] : 0.f;
  s.std = stats ? stats[1] : 1.f;
  s.delta = (s.u - s.l) / k.B;
  return s;
}

__device__ __forceinline__ float fwd_elem(float x, const FwdScalars& s, bool standardize, const DaqConsts& k,
                                          bool eval) {
  float xh = standardize ? daq_standardize(x, s.mean, s.std) : x;
  float level = eval ? daq_eval_level(xh, s.l, s.u, s.delta) : daq_train_level(daq_t(xh, s.l, s.delta), k.B);
  return daq_output(level, k);
}

template <bool kVec>
__global__ void forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, const float* l,
                               const float* u, const float* stats, DaqConsts k, bool eval) {
  const FwdScalars s = load_scalars(l, u, stats, k);
  const bool st = stats != nullptr;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (kVec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 v = x4[i];
      y4[i] = make_float4(fwd_elem(v.x, s, st, k, eval), fwd_elem(v.y, s, st, k, eval), fwd_elem(v.z, s, st, k, eval),
                          fwd_elem(v.w, s, st, k, eval));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + tid; i < n; i += stride) y[i] = fwd_elem(x[i], s, st, k, eval);
}

// ---- backward ----
__device__ __forceinline__ void bwd_elem(float x, float g, const FwdScalars& s, bool st, const DaqConsts& k,
                                         float* dx, double& sl, double& su) {
  float xh = st ? daq_standardize(x, s.mean, s.std) : x;
  DaqGrad d = daq_backward_elem(xh, g, s.l, s.u, k);
  *dx = st ? d.dxh / s.std : d.dxh;
  sl += d.dl;
  su += d.du;
}

template <bool kVec>
__global__ void backward_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                                int64_t n, const float* l, const float* u, const float* stats, DaqConsts k,
                                double* acc) {
  const FwdScalars s = load_scalars(l, u, stats, k);
  const bool st = stats != nullptr;
  double sl = 0.0, su = 0.0;
  int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (kVec) {
    int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    const float4* g4 = reinterpret_cast<const float4*>(g);
    float4* d4 = reinterpret_cast<float4*>(dx);
    for (int64_t i = tid; i < n4; i += stride) {
      float4 xv = x4[i], gv = g4[i], out;
      bwd_elem(xv.x, gv.x, s, st, k, &out.x, sl, su);
      bwd_elem(xv.y, gv.y, s, st, k, &out.y, sl, su);
      bwd_elem(xv.z, gv.z, s, st, k, &out.z, sl, su);
      bwd_elem(xv.w, gv.w, s, st, k, &out.w, sl, su);
      d4[i] = out;
    }
    done = n4 * 4;
  }
  for (int64_t i = done + tid; i < n; i += stride) bwd_elem(x[i], g[i], s, st, k, &dx[i], sl, su);
  block_sum2_atomic(sl, su, acc);
}

__global__ void write_param_grads_kernel(const double* acc, float* dl, float* du) {
  *dl = static_cast<float>(acc[0]);
  *du = static_cast<float>(acc[1]);
}

}  // namespace

void daq_weight_stats(const float* w, int64_t n, float* stats, double* acc) {
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(acc, 0, 2 * sizeof(double), 0));
  stats_reduce_kernel<<<grid_for(n), kThreads, 0, 0>>>(w, n, acc);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
  stats_finish_kernel<<<1, 1, 0, 0>>>(w, n, acc, stats);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void daq_forward(const float* x, float* y, int64_t n, const float* l, const float* u, const float* stats,
                 const DaqConsts& k, bool eval) {
  if (n == 0) return;
  if (aligned16(x) && aligned16(y))
    forward_kernel<true><<<grid_for((n + 3) / 4), kThreads, 0, 0>>>(x, y, n, l, u, stats, k, eval);
  else
    forward_kernel<false><<<grid_for(n), kThreads, 0, 0>>>(x, y, n, l, u, stats, k, eval);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void daq_backward(const float* x, const float* g, float* dx, int64_t n, const float* l, const float* u,
                  const float* stats, const DaqConsts& k, double* acc, float* dl, float* du) {
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(acc, 0, 2 * sizeof(double), 0));
  if (n > 0) {
    if (aligned16(x) && aligned16(g) && aligned16(dx))
      backward_kernel<true><<<grid_for((n + 3) / 4), kThreads, 0, 0>>>(x, g, dx, n, l, u, stats, k, acc);
    else
      backward_kernel<false><<<grid_for(n), kThreads, 0, 0>>>(x, g, dx, n, l, u, stats, k, acc);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
  }
  write_param_grads_kernel<<<1, 1, 0, 0>>>(acc, dl, du);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
