// CUDA reductions (sum / max / min with arg) of contiguous f32 data over any set of axes, plus the
// max/min backward scatter and the argmax index conversion. Same contract and tie/NaN rules as
// kernels/cpu/reduce.cpp: sums accumulate in double; max/min keep (value, flat index) pairs and
// combine them so that the first NaN, else the first extreme element, wins — the combine
// (kernels/reduce_math.h, shared with the CPU loop) is associative and commutative, so any order
// of the parallel reduction gives the CPU's answer.
//
// Plan (host, no synchronization). Size-1 axes are dropped and adjacent axes that are both kept or
// both reduced are merged; the contiguous input then looks like one of
//   [A, R]    trailing axes reduced  -> rows: one warp per row (R < 1024, or R <= 8192 with at
//                                       least 8 rows per SM), else one block per row,
//                                       split over several blocks when A is too small to fill the
//                                       GPU (partials + a finishing pass); float4 loads when
//                                       R % 4 == 0 and x is 16-byte aligned.
//   [A, R, C] leading/middle reduced -> columns: block (TC, 256/TC), each thread owns one output
//                                       column and loops over rows (a warp reads 32 consecutive
//                                       floats), the row-threads combined in shared memory; rows
//                                       split over blocks (grid.y) when there are few columns.
//   other     alternating axes       -> general: one warp per output, lanes walk the reduced
//                                       elements by index decomposition.
// Partials live in a DeviceBuffer from the caching allocator (stream-ordered reuse is safe: one
// stream per device).
//
// Napkin math: 4 B read per input element + 4 B (+8 B arg) per output; partials are at most
// 8·SMs·16 B. Sum over all of 64 M f32: 256 MB, ~80 µs at 3.35 TB/s; the double adds
// (64 M / (132 SMs · 64/clk)) take ~5 µs, hidden under the loads.
#include "kernels/cuda/reduce.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/reduce_math.h"

namespace lowbit::cuda {

namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kBlock = 256;
constexpr int kMaxDims = 8;

// ---------------------------------------------------------------- accumulators

struct SumAcc {
  double v;
};
using ExtAcc = ExtremePair;  // kernels/reduce_math.h

struct SumRed {
  using Acc = SumAcc;
  __device__ static Acc identity() { return {0.0}; }
  __device__ static void push(Acc& a, float v, int64_t) { a.v += static_cast<double>(v); }
  __device__ static Acc combine(Acc a, Acc b) { return {a.v + b.v}; }
  __device__ static Acc shfl_down(Acc a, int off) { return {__shfl_down_sync(kFull, a.v, off)}; }
  __device__ static void store(Acc a, float* out, int64_t*, int64_t o) { out[o] = static_cast<float>(a.v); }
};

template <bool MAX>
struct ExtRed {
  using Acc = ExtAcc;
  __device__ static Acc identity() { return extreme_identity(); }
  // First NaN wins; else the larger (smaller) value; equal values: the smaller index.
  __device__ static Acc combine(Acc a, Acc b) { return extreme_combine(a, b, MAX); }
  __device__ static void push(Acc& a, float v, int64_t i) { a = combine(a, Acc{v, i}); }
  __device__ static Acc shfl_down(Acc a, int off) {
    return {__shfl_down_sync(kFull, a.v, off), static_cast<int64_t>(__shfl_down_sync(kFull, static_cast<long long>(a.i), off))};
  }
  __device__ static void store(Acc a, float* out, int64_t* arg, int64_t o) {
    out[o] = a.v;
    if (arg) arg[o] = a.i;
  }
};

template <typename Red>
__device__ __forceinline__ typename Red::Acc warp_reduce(typename Red::Acc a) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) a = Red::combine(a, Red::shfl_down(a, off));
  return a;  // valid in lane 0
}

// Block-wide combine (1-D block, multiple of 32 threads); the result is valid in thread 0.
template <typename Red>
__device__ typename Red::Acc block_reduce(typename Red::Acc a) {
  using Acc = typename Red::Acc;
  __shared__ Acc warp_acc[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  a = warp_reduce<Red>(a);
  if (lane == 0) warp_acc[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < static_cast<int>(blockDim.x >> 5) ? warp_acc[lane] : Red::identity();
    a = warp_reduce<Red>(a);
  }
  return a;
}

template <typename Red>
__device__ __forceinline__ void push4(typename Red::Acc& acc, float4 v, int64_t i) {
  Red::push(acc, v.x, i);
  Red::push(acc, v.y, i + 1);
  Red::push(acc, v.z, i + 2);
  Red::push(acc, v.w, i + 3);
}

// ---------------------------------------------------------------- kernels

// [A, R] rows, one warp per row.
template <typename Red, bool VEC>
__global__ void row_warp_kernel(const float* __restrict__ x, int64_t rows, int64_t len, float* out, int64_t* arg) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; row < rows; row += warps) {
    const int64_t base = row * len;
    typename Red::Acc acc = Red::identity();
    if (VEC) {
      const auto* p = reinterpret_cast<const float4*>(x + base);
#pragma unroll 4
      for (int64_t j = lane; j < len / 4; j += 32) push4<Red>(acc, p[j], base + 4 * j);
    } else {
#pragma unroll 4
      for (int64_t j = lane; j < len; j += 32) Red::push(acc, x[base + j], base + j);
    }
    acc = warp_reduce<Red>(acc);
    if (lane == 0) Red::store(acc, out, arg, row);
  }
}

// [A, R] rows, block b handles row b / splits, elements [s·chunk, (s+1)·chunk) with s = b % splits
// (chunk % 4 == 0). splits == 1 writes the output, else partial[b].
template <typename Red, bool VEC>
__global__ void row_block_kernel(const float* __restrict__ x, int64_t len, int64_t splits, int64_t chunk, float* out,
                                 int64_t* arg, typename Red::Acc* partial) {
  const int64_t row = blockIdx.x / splits, s = blockIdx.x % splits;
  const int64_t base = row * len;
  const int64_t begin = s * chunk, end = min(len, begin + chunk);
  typename Red::Acc acc = Red::identity();
  if (VEC) {
    const auto* p = reinterpret_cast<const float4*>(x + base);
#pragma unroll 4
    for (int64_t j = begin / 4 + threadIdx.x; j < end / 4; j += blockDim.x) push4<Red>(acc, p[j], base + 4 * j);
  } else {
#pragma unroll 4
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) Red::push(acc, x[base + j], base + j);
  }
  acc = block_reduce<Red>(acc);
  if (threadIdx.x == 0) {
    if (splits == 1)
      Red::store(acc, out, arg, row);
    else
      partial[blockIdx.x] = acc;
  }
}

// [A, R, C]: block (TC, TY) with TC·TY = 256; blockIdx.x = a·col_blocks + column block,
// blockIdx.y = row split. splits == 1 writes the output, else partial[o·splits + s].
template <typename Red>
__global__ void col_kernel(const float* __restrict__ x, int64_t rows, int64_t cols, int64_t col_blocks, int64_t chunk,
                           float* out, int64_t* arg, typename Red::Acc* partial) {
  using Acc = typename Red::Acc;
  __shared__ Acc tile[kBlock];
  const int tx = threadIdx.x, ty = threadIdx.y, tc = blockDim.x, tyn = blockDim.y;
  const int64_t a = blockIdx.x / col_blocks;
  const int64_t j = (blockIdx.x % col_blocks) * tc + tx;
  const int64_t s = blockIdx.y, splits = gridDim.y;
  const int64_t begin = s * chunk, end = min(rows, begin + chunk);
  Acc acc = Red::identity();
  if (j < cols) {
    const int64_t base = a * rows * cols + j;
#pragma unroll 4
    for (int64_t r = begin + ty; r < end; r += tyn) {
      const int64_t i = base + r * cols;
      Red::push(acc, x[i], i);
    }
  }
  tile[ty * tc + tx] = acc;
  __syncthreads();
  for (int half = tyn / 2; half > 0; half >>= 1) {  // tyn is a power of two
    if (ty < half) tile[ty * tc + tx] = Red::combine(tile[ty * tc + tx], tile[(ty + half) * tc + tx]);
    __syncthreads();
  }
  if (ty == 0 && j < cols) {
    const int64_t o = a * cols + j;
    if (splits == 1)
      Red::store(tile[tx], out, arg, o);
    else
      partial[o * splits + s] = tile[tx];
  }
}

// out[o] = combine of partial[o·parts + p], p < parts; one warp per output.
template <typename Red>
__global__ void finish_kernel(const typename Red::Acc* __restrict__ partial, int64_t outputs, int64_t parts,
                              float* out, int64_t* arg) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t o = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; o < outputs; o += warps) {
    typename Red::Acc acc = Red::identity();
    for (int64_t p = lane; p < parts; p += 32) acc = Red::combine(acc, partial[o * parts + p]);
    acc = warp_reduce<Red>(acc);
    if (lane == 0) Red::store(acc, out, arg, o);
  }
}

// Any pattern of kept/reduced axes: one warp per output.
struct GeneralLayout {
  int nk = 0, nr = 0;
  int64_t kept_size[kMaxDims] = {}, kept_stride[kMaxDims] = {};  // input strides
  int64_t red_size[kMaxDims] = {}, red_stride[kMaxDims] = {};
  int64_t count = 1;  // elements per output
};

template <typename Red>
__global__ void general_kernel(const float* __restrict__ x, GeneralLayout L, int64_t outputs, float* out,
                               int64_t* arg) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t o = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; o < outputs; o += warps) {
    int64_t base = 0, rem = o;
    for (int d = L.nk - 1; d >= 0; --d) {
      base += (rem % L.kept_size[d]) * L.kept_stride[d];
      rem /= L.kept_size[d];
    }
    typename Red::Acc acc = Red::identity();
    for (int64_t t = lane; t < L.count; t += 32) {
      int64_t off = base, r = t;
      for (int d = L.nr - 1; d >= 0; --d) {
        off += (r % L.red_size[d]) * L.red_stride[d];
        r /= L.red_size[d];
      }
      Red::push(acc, x[off], off);
    }
    acc = warp_reduce<Red>(acc);
    if (lane == 0) Red::store(acc, out, arg, o);
  }
}

// Nothing reduced (every reduced axis has size 1): out = x, arg = index.
__global__ void copy_kernel(const float* __restrict__ x, float* out, int64_t* arg, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = x[i];
    if (arg) arg[i] = i;
  }
}

// A reduced axis of size 0 (sums only): every output is the identity.
template <typename Red>
__global__ void identity_kernel(float* out, int64_t* arg, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    Red::store(Red::identity(), out, arg, i);
}

__global__ void scatter_kernel(const float* __restrict__ g, const int64_t* __restrict__ arg, float* gx, int64_t n) {
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x)
    gx[arg[o]] = g[o];
}

__global__ void axis_index_kernel(const int64_t* __restrict__ arg, int32_t* idx, int64_t n, int64_t stride,
                                  int64_t size) {
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x)
    idx[o] = static_cast<int32_t>((arg[o] / stride) % size);
}

// ---------------------------------------------------------------- host planning

struct Axis {
  int64_t size;
  bool reduced;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_launch() { LOWBIT_CUDA_CHECK(cudaGetLastError()); }

template <typename Red>
void finish(const DeviceBuffer& partial, int64_t outputs, int64_t parts, float* out, int64_t* arg) {
  finish_kernel<Red><<<stride_grid(outputs * 32, kBlock), kBlock, 0, current_stream()>>>(
      partial.as<typename Red::Acc>(), outputs, parts, out, arg);
  check_launch();
}

template <typename Red>
void reduce_rows(const float* x, int64_t rows, int64_t len, float* out, int64_t* arg) {
  const bool vec = len % 4 == 0 && aligned16(x);
  // A warp per row when rows are short, or moderately long but numerous enough to fill the GPU
  // with warps (each lane then has several independent float4 loads in flight).
  if (len < 1024 || (len <= 8192 && rows >= static_cast<int64_t>(sm_count()) * 8)) {
    const unsigned grid = stride_grid(rows * 32, kBlock);
    if (vec)
      row_warp_kernel<Red, true><<<grid, kBlock, 0, current_stream()>>>(x, rows, len, out, arg);
    else
      row_warp_kernel<Red, false><<<grid, kBlock, 0, current_stream()>>>(x, rows, len, out, arg);
    check_launch();
    return;
  }
  // Enough blocks to fill the GPU (8 per SM), each with at least 8 K elements; one launch holds at
  // most 2^31 - 1 blocks.
  const int64_t target = static_cast<int64_t>(sm_count()) * 8;
  int64_t splits = std::max<int64_t>(1, std::min(ceil_div(target, rows), ceil_div(len, 8192)));
  int64_t chunk = ceil_div(ceil_div(len, splits), 4) * 4;
  splits = ceil_div(len, chunk);
  LOWBIT_CHECK(rows * splits < (int64_t{1} << 31), "reduce: ", rows, " rows of ", len, " elements need too many blocks");
  DeviceBuffer partial;
  if (splits > 1) partial = DeviceBuffer(static_cast<size_t>(rows * splits) * sizeof(typename Red::Acc));
  auto* p = partial.as<typename Red::Acc>();
  const unsigned grid = static_cast<unsigned>(rows * splits);
  if (vec)
    row_block_kernel<Red, true><<<grid, kBlock, 0, current_stream()>>>(x, len, splits, chunk, out, arg, p);
  else
    row_block_kernel<Red, false><<<grid, kBlock, 0, current_stream()>>>(x, len, splits, chunk, out, arg, p);
  check_launch();
  if (splits > 1) finish<Red>(partial, rows, splits, out, arg);
}

template <typename Red>
void reduce_cols(const float* x, int64_t outer, int64_t rows, int64_t cols, float* out, int64_t* arg) {
  int tc = 1;
  while (tc < 32 && tc < cols) tc *= 2;
  const int ty = kBlock / tc;
  const int64_t col_blocks = ceil_div(cols, tc);
  const int64_t base_blocks = outer * col_blocks;
  LOWBIT_CHECK(base_blocks < (int64_t{1} << 31), "reduce: ", outer, " x ", cols, " outputs need too many blocks");
  const int64_t target = static_cast<int64_t>(sm_count()) * 8;
  int64_t splits = std::max<int64_t>(1, std::min({ceil_div(target, base_blocks), ceil_div(rows, ty * 8), int64_t{65535}}));
  const int64_t chunk = ceil_div(rows, splits);
  splits = ceil_div(rows, chunk);
  const int64_t outputs = outer * cols;
  DeviceBuffer partial;
  if (splits > 1) partial = DeviceBuffer(static_cast<size_t>(outputs * splits) * sizeof(typename Red::Acc));
  const dim3 grid(static_cast<unsigned>(base_blocks), static_cast<unsigned>(splits));
  const dim3 block(static_cast<unsigned>(tc), static_cast<unsigned>(ty));
  col_kernel<Red><<<grid, block, 0, current_stream()>>>(x, rows, cols, col_blocks, chunk, out, arg,
                                                         partial.as<typename Red::Acc>());
  check_launch();
  if (splits > 1) finish<Red>(partial, outputs, splits, out, arg);
}

template <typename Red>
void reduce_general(const float* x, const std::vector<Axis>& axes, int64_t outputs, float* out, int64_t* arg) {
  LOWBIT_CHECK(axes.size() <= static_cast<size_t>(kMaxDims), "reduce: ", axes.size(),
               " alternating kept/reduced axis groups (the CUDA kernel takes at most ", kMaxDims, ")");
  GeneralLayout L;
  int64_t stride = 1;
  std::vector<int64_t> strides(axes.size());
  for (size_t k = axes.size(); k-- > 0;) {  // innermost first: contiguous input strides
    strides[k] = stride;
    stride *= axes[k].size;
  }
  for (size_t k = 0; k < axes.size(); ++k) {
    if (axes[k].reduced) {
      L.red_size[L.nr] = axes[k].size;
      L.red_stride[L.nr++] = strides[k];
      L.count *= axes[k].size;
    } else {
      L.kept_size[L.nk] = axes[k].size;
      L.kept_stride[L.nk++] = strides[k];
    }
  }
  general_kernel<Red><<<stride_grid(outputs * 32, kBlock), kBlock, 0, current_stream()>>>(x, L, outputs, out, arg);
  check_launch();
}

template <typename Red>
void reduce_with(const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
                 int64_t out_numel, int64_t* arg) {
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d) total *= shape[d];
  if (total == 0) {  // an empty reduced axis: sums are 0 (max/min are refused by the op)
    identity_kernel<Red><<<stride_grid(out_numel, kBlock), kBlock, 0, current_stream()>>>(out, arg, out_numel);
    check_launch();
    return;
  }
  std::vector<Axis> axes;
  for (int64_t d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    const bool red = out_strides[d] == 0;
    if (!axes.empty() && axes.back().reduced == red)
      axes.back().size *= shape[d];
    else
      axes.push_back({shape[d], red});
  }
  const size_t n = axes.size();
  const bool any_reduced = std::any_of(axes.begin(), axes.end(), [](const Axis& a) { return a.reduced; });
  if (!any_reduced) {
    copy_kernel<<<stride_grid(total, kBlock), kBlock, 0, current_stream()>>>(x, out, arg, total);
    check_launch();
  } else if (n == 1) {  // [R]
    reduce_rows<Red>(x, 1, axes[0].size, out, arg);
  } else if (n == 2 && axes[1].reduced) {  // [A, R]
    reduce_rows<Red>(x, axes[0].size, axes[1].size, out, arg);
  } else if (n == 2) {  // [R, C]
    reduce_cols<Red>(x, 1, axes[0].size, axes[1].size, out, arg);
  } else if (n == 3 && axes[1].reduced) {  // [A, R, C]
    reduce_cols<Red>(x, axes[0].size, axes[1].size, axes[2].size, out, arg);
  } else {
    reduce_general<Red>(x, axes, out_numel, out, arg);
  }
}

}  // namespace

void reduce(ReduceOp op, const float* x, const int64_t* shape, int64_t rank, const int64_t* out_strides, float* out,
            int64_t out_numel, int64_t* arg) {
  if (out_numel <= 0) return;
  switch (op) {
    case ReduceOp::sum: return reduce_with<SumRed>(x, shape, rank, out_strides, out, out_numel, nullptr);
    case ReduceOp::max: return reduce_with<ExtRed<true>>(x, shape, rank, out_strides, out, out_numel, arg);
    case ReduceOp::min: return reduce_with<ExtRed<false>>(x, shape, rank, out_strides, out, out_numel, arg);
  }
  LOWBIT_FAIL("cuda reduce: unknown op ", static_cast<int>(op));
}

void scatter_to_arg(const float* g, const int64_t* arg, float* gx, int64_t n) {
  if (n <= 0) return;
  scatter_kernel<<<stride_grid(n, kBlock), kBlock, 0, current_stream()>>>(g, arg, gx, n);
  check_launch();
}

void arg_to_axis_index(const int64_t* arg, int32_t* idx, int64_t n, int64_t stride, int64_t size) {
  if (n <= 0) return;
  axis_index_kernel<<<stride_grid(n, kBlock), kBlock, 0, current_stream()>>>(arg, idx, n, stride, size);
  check_launch();
}

}  // namespace lowbit::cuda
