// DAQ quantizer CUDA kernels: the weight-statistics reduction, the fused forward and the fused
// backward (closed form, spec §3.2), with the per-element math of kernels/quant/daq_math.h.
// Napkin math (64 M fp32 elements, H100 ≈ 3.3 TB/s):
//   stats pass (weights only): 4 B/elem read (float4 loads when aligned); forward: 8 B/elem (x read, y written);
//   backward: 12 B/elem (x, g read, dx written; the forward's {mean, std} are reused, no second
//   stats pass). Floor forward+backward = 20 B/elem (+4 for the weights' stats pass).
//   Compute: forward ~10 flops/elem, backward 2 exp + 7 divisions + ~20 flops/elem: the backward is
//   compute-bound on the H100 (1.6-2x its 12 B/elem memory time).
// l, u and the statistics are read from device memory; the parameter gradients are reduced per
// block (warp shuffle + shared memory) into double accumulators with one atomicAdd per block,
// then a one-thread kernel writes them as f32 scalars (kernels/cuda/quant_launch.cuh). Current
// stream, no host synchronization.
#include "kernels/cuda/quant_daq.h"

#include "kernels/cuda/quant_launch.cuh"

namespace lowbit::cuda {

namespace {

// ---- statistics ----
__global__ void stats_reduce_kernel(const float* __restrict__ w, int64_t n, bool vec, double* acc) {
  const double shift = w[0];
  double part[2] = {0.0, 0.0};
  qlaunch::visit1(w, n, vec, [&](float v) {
    const double d = static_cast<double>(v) - shift;
    part[0] += d;
    part[1] += d * d;
  });
  qlaunch::block_sum_atomic<2>(part, acc);
}

// One thread: {mean, std} from the shifted sums.
struct StatsFinish {
  const float* w;
  int64_t n;
  const double* acc;
  float* stats;
  __device__ void operator()() const {
    daq_finish_stats(static_cast<double>(n), static_cast<double>(w[0]), acc[0], acc[1], &stats[0], &stats[1]);
  }
};

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

__global__ void forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, const float* l,
                               const float* u, const float* stats, DaqConsts k, bool eval, bool vec) {
  const FwdScalars s = load_scalars(l, u, stats, k);
  const bool st = stats != nullptr;
  qlaunch::map1(x, y, n, vec, [&](float v) { return fwd_elem(v, s, st, k, eval); });
}

// ---- backward ----
__device__ __forceinline__ float bwd_elem(float x, float g, const FwdScalars& s, bool st, const DaqConsts& k,
                                          double (&part)[2]) {
  float xh = st ? daq_standardize(x, s.mean, s.std) : x;
  DaqGrad d = daq_backward_elem(xh, g, s.l, s.u, k);
  part[0] += d.dl;
  part[1] += d.du;
  return st ? d.dxh / s.std : d.dxh;
}

// Compute-bound (2 expf and 7 divisions per element): one float4 pair in flight per thread, so
// the registers allow more resident warps to hide the latency of the math (measured on the H100:
// 4 loads in flight per thread made it ~10% slower).
__global__ void backward_kernel(const float* __restrict__ x, const float* __restrict__ g, float* __restrict__ dx,
                                int64_t n, const float* l, const float* u, const float* stats, DaqConsts k,
                                double* acc, bool vec) {
  const FwdScalars s = load_scalars(l, u, stats, k);
  const bool st = stats != nullptr;
  double part[2] = {0.0, 0.0};
  qlaunch::map2<1>(x, g, dx, n, vec, [&](float xv, float gv) { return bwd_elem(xv, gv, s, st, k, part); });
  qlaunch::block_sum_atomic<2>(part, acc);
}

}  // namespace

void daq_weight_stats(const float* w, int64_t n, float* stats, double* acc) {
  qlaunch::zero_async(acc, 2 * sizeof(double));
  const bool vec = aligned16(w);
  qlaunch::launch_stride(stats_reduce_kernel, n, vec, w, n, vec, acc);
  qlaunch::launch_one_thread(StatsFinish{w, n, acc, stats});
}

void daq_forward(const float* x, float* y, int64_t n, const float* l, const float* u, const float* stats,
                 const DaqConsts& k, bool eval) {
  if (n == 0) return;
  const bool vec = aligned16(x, y);
  qlaunch::launch_stride(forward_kernel, n, vec, x, y, n, l, u, stats, k, eval, vec);
}

void daq_backward(const float* x, const float* g, float* dx, int64_t n, const float* l, const float* u,
                  const float* stats, const DaqConsts& k, double* acc, float* dl, float* du) {
  qlaunch::zero_async(acc, 2 * sizeof(double));
  if (n > 0) {
    const bool vec = aligned16(x, g, dx);
    qlaunch::launch_stride(backward_kernel, n, vec, x, g, dx, n, l, u, stats, k, acc, vec);
  }
  qlaunch::launch_one_thread(qlaunch::StoreSums<2>{acc, {dl, du}});
}

}  // namespace lowbit::cuda
