// CUDA elementwise kernels (f32): unary forward/backward, broadcasting binary ops, comparisons
// (u8 out) and where. One pass, no temporaries, grid-stride loops on cuda::current_stream().
//
// Paths. The host first drops size-1 axes and merges axes that stay contiguous for every operand,
// then picks:
//   flat : rank 1 after merging, each operand with stride 1 or 0 (same-shape contiguous operands,
//          or a scalar broadcast) -> float4 loads/stores when every pointer is 16-byte aligned,
//          scalar tail.
//   rows : [rows, C] with one operand [C] (row broadcast, e.g. a bias) -> float4 when C % 4 == 0.
//   general: up to 8 axes, each output index decomposed into per-operand offsets (32-bit index
//          math when the element count allows it, 64-bit otherwise).
// Per-element math: kernels/elementwise_math.h (the op is a template argument, so the switch
// folds away).
//
// Napkin math (bytes per output element; floor = bytes / HBM bandwidth, ~3.35 TB/s on H100 SXM):
//   unary forward: read x, write y = 8 B      -> 64 M elements: 512 MB, ~0.16 ms
//   unary backward: read x, y, gy, write gx = 16 B
//   binary same shape: 12 B; row broadcast: 8 B (the [C] row stays in L1/L2); scalar: 8 B
//   compare: 8 B read + 1 B written; where: 9 B read + 4 B written.
// Compute is a few flops per element (tanh/exp/pow: one transcendental), far below the memory time.
#include "kernels/cuda/elementwise.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"

namespace lowbit::cuda {

namespace {

constexpr int kBlock = 256;
constexpr int kMaxDims = 8;

__device__ __forceinline__ int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Calls f(std::integral_constant<E, op>) for the runtime op, so kernels get it as a template argument.
template <typename F>
void with_unary(UnaryOp op, F&& f) {
  using U = UnaryOp;
  switch (op) {
    case U::neg: return f(std::integral_constant<U, U::neg>{});
    case U::exp: return f(std::integral_constant<U, U::exp>{});
    case U::log: return f(std::integral_constant<U, U::log>{});
    case U::sqrt: return f(std::integral_constant<U, U::sqrt>{});
    case U::abs: return f(std::integral_constant<U, U::abs>{});
    case U::sign: return f(std::integral_constant<U, U::sign>{});
    case U::relu: return f(std::integral_constant<U, U::relu>{});
    case U::tanh: return f(std::integral_constant<U, U::tanh>{});
    case U::sigmoid: return f(std::integral_constant<U, U::sigmoid>{});
    case U::pow: return f(std::integral_constant<U, U::pow>{});
    case U::clamp: return f(std::integral_constant<U, U::clamp>{});
    case U::add_scalar: return f(std::integral_constant<U, U::add_scalar>{});
    case U::mul_scalar: return f(std::integral_constant<U, U::mul_scalar>{});
  }
  LOWBIT_FAIL("cuda elementwise: unknown unary op ", static_cast<int>(op));
}

template <typename F>
void with_binary(BinaryOp op, F&& f) {
  using B = BinaryOp;
  switch (op) {
    case B::add: return f(std::integral_constant<B, B::add>{});
    case B::sub: return f(std::integral_constant<B, B::sub>{});
    case B::mul: return f(std::integral_constant<B, B::mul>{});
    case B::div: return f(std::integral_constant<B, B::div>{});
  }
  LOWBIT_FAIL("cuda elementwise: unknown binary op ", static_cast<int>(op));
}

// ---------------------------------------------------------------- unary

template <UnaryOp OP, bool VEC>
__global__ void unary_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, float a,
                                     float b) {
  int64_t start = 0;
  if (VEC) {
    const int64_t n4 = n / 4;
    const auto* x4 = reinterpret_cast<const float4*>(x);
    auto* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
      float4 v = x4[i];
      v.x = unary_forward(OP, v.x, a, b);
      v.y = unary_forward(OP, v.y, a, b);
      v.z = unary_forward(OP, v.z, a, b);
      v.w = unary_forward(OP, v.w, a, b);
      y4[i] = v;
    }
    start = n4 * 4;
  }
  for (int64_t i = start + thread_index(); i < n; i += grid_stride()) y[i] = unary_forward(OP, x[i], a, b);
}

template <UnaryOp OP, bool VEC>
__global__ void unary_backward_kernel(const float* __restrict__ x, const float* __restrict__ y,
                                      const float* __restrict__ gy, float* __restrict__ gx, int64_t n, float a,
                                      float b) {
  int64_t start = 0;
  if (VEC) {  // only taken when y is non-null
    const int64_t n4 = n / 4;
    const auto* x4 = reinterpret_cast<const float4*>(x);
    const auto* y4 = reinterpret_cast<const float4*>(y);
    const auto* g4 = reinterpret_cast<const float4*>(gy);
    auto* o4 = reinterpret_cast<float4*>(gx);
    for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
      const float4 xv = x4[i], yv = y4[i], gv = g4[i];
      float4 r;
      r.x = unary_grad(OP, xv.x, yv.x, gv.x, a, b);
      r.y = unary_grad(OP, xv.y, yv.y, gv.y, a, b);
      r.z = unary_grad(OP, xv.z, yv.z, gv.z, a, b);
      r.w = unary_grad(OP, xv.w, yv.w, gv.w, a, b);
      o4[i] = r;
    }
    start = n4 * 4;
  }
  for (int64_t i = start + thread_index(); i < n; i += grid_stride())
    gx[i] = unary_grad(OP, x[i], y ? y[i] : 0.f, gy[i], a, b);
}

// ---------------------------------------------------------------- broadcast layout (host)

// Output shape and per-operand strides after dropping size-1 axes and merging contiguous runs.
template <int K>
struct Layout {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride[K][kMaxDims] = {};
};

template <int K>
Layout<K> merge_axes(const int64_t* shape, int64_t rank, const int64_t* const (&strides)[K], const char* op) {
  std::vector<int64_t> sizes;
  std::vector<std::vector<int64_t>> st(K);
  for (int64_t d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    bool merge = !sizes.empty();
    for (int k = 0; k < K && merge; ++k) merge = st[k].back() == shape[d] * strides[k][d];
    if (merge) {
      sizes.back() *= shape[d];
      for (int k = 0; k < K; ++k) st[k].back() = strides[k][d];
    } else {
      sizes.push_back(shape[d]);
      for (int k = 0; k < K; ++k) st[k].push_back(strides[k][d]);
    }
  }
  if (sizes.empty()) {  // a single element: read element 0 of every operand
    sizes.push_back(1);
    for (int k = 0; k < K; ++k) st[k].push_back(0);
  }
  LOWBIT_CHECK(sizes.size() <= static_cast<size_t>(kMaxDims), op, ": ", sizes.size(),
               " broadcast axes remain after merging (the CUDA kernels take at most ", kMaxDims, ")");
  Layout<K> L;
  L.rank = static_cast<int>(sizes.size());
  for (int d = 0; d < L.rank; ++d) {
    L.shape[d] = sizes[static_cast<size_t>(d)];
    for (int k = 0; k < K; ++k) L.stride[k][d] = st[k][static_cast<size_t>(d)];
  }
  return L;
}

// True when the merged layout is one axis and every operand has stride 0 or 1 on it.
template <int K>
bool is_flat(const Layout<K>& L) {
  if (L.rank != 1) return false;
  for (int k = 0; k < K; ++k)
    if (L.stride[k][0] != 0 && L.stride[k][0] != 1) return false;
  return true;
}

// ---------------------------------------------------------------- general broadcast kernel

// f(i, off) for every output index i, off[k] = operand k's element offset. I: uint32_t or int64_t.
template <int K, typename I, typename F>
__global__ void broadcast_kernel(Layout<K> L, I n, F f) {
  const I stride = static_cast<I>(gridDim.x) * blockDim.x;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    I rem = i;
    I off[K] = {};
    for (int d = L.rank - 1; d >= 0; --d) {
      const I s = static_cast<I>(L.shape[d]);
      const I c = rem % s;
      rem /= s;
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += c * static_cast<I>(L.stride[k][d]);
    }
    f(i, off);
  }
}

template <int K, typename F>
void launch_broadcast(const Layout<K>& L, int64_t n, F f) {
  const unsigned grid = stride_grid(n, kBlock);
  const int64_t span = static_cast<int64_t>(grid) * kBlock;
  // 32-bit index math when i + grid stride cannot wrap (every operand offset is below n too).
  if (n + span < (int64_t{1} << 32)) {
    broadcast_kernel<K, uint32_t, F><<<grid, kBlock, 0, current_stream()>>>(L, static_cast<uint32_t>(n), f);
  } else {
    broadcast_kernel<K, int64_t, F><<<grid, kBlock, 0, current_stream()>>>(L, n, f);
  }
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

template <BinaryOp OP>
struct BinaryAt {
  const float* a;
  const float* b;
  float* out;
  template <typename I>
  __device__ void operator()(I i, const I* off) const {
    out[i] = binary_forward(OP, a[off[0]], b[off[1]]);
  }
};

struct CompareAt {
  CompareOp op;
  const float* a;
  const float* b;
  uint8_t* out;
  template <typename I>
  __device__ void operator()(I i, const I* off) const {
    out[i] = lowbit::compare(op, a[off[0]], b[off[1]]) ? 1 : 0;
  }
};

struct WhereAt {
  const uint8_t* c;
  const float* a;
  const float* b;
  float* out;
  template <typename I>
  __device__ void operator()(I i, const I* off) const {
    out[i] = c[off[0]] ? a[off[1]] : b[off[2]];
  }
};

// ---------------------------------------------------------------- binary fast paths

// Flat: operand k reads element i (stride 1) or element 0 (SA/SB false: scalar broadcast).
template <BinaryOp OP, bool SA, bool SB, bool VEC>
__global__ void binary_flat_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                   int64_t n) {
  int64_t start = 0;
  if (VEC) {
    const int64_t n4 = n / 4;
    const float a0 = SA ? 0.f : a[0], b0 = SB ? 0.f : b[0];
    for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
      const float4 av = SA ? reinterpret_cast<const float4*>(a)[i] : make_float4(a0, a0, a0, a0);
      const float4 bv = SB ? reinterpret_cast<const float4*>(b)[i] : make_float4(b0, b0, b0, b0);
      float4 r;
      r.x = binary_forward(OP, av.x, bv.x);
      r.y = binary_forward(OP, av.y, bv.y);
      r.z = binary_forward(OP, av.z, bv.z);
      r.w = binary_forward(OP, av.w, bv.w);
      reinterpret_cast<float4*>(out)[i] = r;
    }
    start = n4 * 4;
  }
  for (int64_t i = start + thread_index(); i < n; i += grid_stride())
    out[i] = binary_forward(OP, a[SA ? i : 0], b[SB ? i : 0]);
}

// [rows, C] with one operand a [C] row: RA (RB) true when a (b) is the full [rows, C] operand.
template <BinaryOp OP, bool RA, bool RB, bool VEC>
__global__ void binary_rows_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                   int64_t n, int64_t cols) {
  if (VEC) {  // cols % 4 == 0: a float4 group never straddles two rows
    const int64_t n4 = n / 4, cols4 = cols / 4;
    for (int64_t i = thread_index(); i < n4; i += grid_stride()) {
      const int64_t j = i % cols4;
      const float4 av = reinterpret_cast<const float4*>(a)[RA ? i : j];
      const float4 bv = reinterpret_cast<const float4*>(b)[RB ? i : j];
      float4 r;
      r.x = binary_forward(OP, av.x, bv.x);
      r.y = binary_forward(OP, av.y, bv.y);
      r.z = binary_forward(OP, av.z, bv.z);
      r.w = binary_forward(OP, av.w, bv.w);
      reinterpret_cast<float4*>(out)[i] = r;
    }
  } else {
    for (int64_t i = thread_index(); i < n; i += grid_stride()) {
      const int64_t j = i % cols;
      out[i] = binary_forward(OP, a[RA ? i : j], b[RB ? i : j]);
    }
  }
}

template <BinaryOp OP, bool SA, bool SB>
void launch_flat(const float* a, const float* b, float* out, int64_t n) {
  const bool vec = (!SA || aligned16(a)) && (!SB || aligned16(b)) && aligned16(out) && n >= 4;
  const unsigned grid = stride_grid(vec ? n / 4 : n, kBlock);
  if (vec)
    binary_flat_kernel<OP, SA, SB, true><<<grid, kBlock, 0, current_stream()>>>(a, b, out, n);
  else
    binary_flat_kernel<OP, SA, SB, false><<<grid, kBlock, 0, current_stream()>>>(a, b, out, n);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

template <BinaryOp OP, bool RA, bool RB>
void launch_rows(const float* a, const float* b, float* out, int64_t n, int64_t cols) {
  const bool vec = cols % 4 == 0 && aligned16(a) && aligned16(b) && aligned16(out);
  const unsigned grid = stride_grid(vec ? n / 4 : n, kBlock);
  if (vec)
    binary_rows_kernel<OP, RA, RB, true><<<grid, kBlock, 0, current_stream()>>>(a, b, out, n, cols);
  else
    binary_rows_kernel<OP, RA, RB, false><<<grid, kBlock, 0, current_stream()>>>(a, b, out, n, cols);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

// ---------------------------------------------------------------- compare / where flat paths

__global__ void compare_flat_kernel(CompareOp op, const float* __restrict__ a, int64_t sa, const float* __restrict__ b,
                                    int64_t sb, uint8_t* __restrict__ out, int64_t n) {
  for (int64_t i = thread_index(); i < n; i += grid_stride())
    out[i] = lowbit::compare(op, a[i * sa], b[i * sb]) ? 1 : 0;
}

__global__ void where_flat_kernel(const uint8_t* __restrict__ c, int64_t sc, const float* __restrict__ a, int64_t sa,
                                  const float* __restrict__ b, int64_t sb, float* __restrict__ out, int64_t n) {
  for (int64_t i = thread_index(); i < n; i += grid_stride()) out[i] = c[i * sc] ? a[i * sa] : b[i * sb];
}

int64_t numel_of(const int64_t* shape, int64_t rank) {
  int64_t n = 1;
  for (int64_t d = 0; d < rank; ++d) n *= shape[d];
  return n;
}

}  // namespace

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float a, float b) {
  if (n <= 0) return;
  const bool vec = aligned16(x) && aligned16(y) && n >= 4;
  const unsigned grid = stride_grid(vec ? n / 4 : n, kBlock);
  with_unary(op, [&](auto opc) {
    constexpr UnaryOp OP = decltype(opc)::value;
    if (vec)
      unary_forward_kernel<OP, true><<<grid, kBlock, 0, current_stream()>>>(x, y, n, a, b);
    else
      unary_forward_kernel<OP, false><<<grid, kBlock, 0, current_stream()>>>(x, y, n, a, b);
  });
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx, int64_t n, float a,
                    float b) {
  if (n <= 0) return;
  const bool vec = y != nullptr && aligned16(x) && aligned16(y) && aligned16(gy) && aligned16(gx) && n >= 4;
  const unsigned grid = stride_grid(vec ? n / 4 : n, kBlock);
  with_unary(op, [&](auto opc) {
    constexpr UnaryOp OP = decltype(opc)::value;
    if (vec)
      unary_backward_kernel<OP, true><<<grid, kBlock, 0, current_stream()>>>(x, y, gy, gx, n, a, b);
    else
      unary_backward_kernel<OP, false><<<grid, kBlock, 0, current_stream()>>>(x, y, gy, gx, n, a, b);
  });
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
            float* out, const int64_t* out_shape, int64_t rank) {
  const int64_t n = numel_of(out_shape, rank);
  if (n <= 0) return;
  const int64_t* const strides[2] = {a_strides, b_strides};
  const Layout<2> L = merge_axes<2>(out_shape, rank, strides, "binary");
  with_binary(op, [&](auto opc) {
    constexpr BinaryOp OP = decltype(opc)::value;
    if (is_flat(L)) {
      const bool sa = L.stride[0][0] == 1, sb = L.stride[1][0] == 1;
      if (sa && sb) return launch_flat<OP, true, true>(a, b, out, n);
      if (sa) return launch_flat<OP, true, false>(a, b, out, n);
      if (sb) return launch_flat<OP, false, true>(a, b, out, n);
      return launch_flat<OP, true, true>(a, b, out, n);  // one element (both strides 0): read it once
    }
    if (L.rank == 2 && L.stride[0][1] == 1 && L.stride[1][1] == 1) {
      const int64_t cols = L.shape[1];
      if (L.stride[0][0] == cols && L.stride[1][0] == 0) return launch_rows<OP, true, false>(a, b, out, n, cols);
      if (L.stride[0][0] == 0 && L.stride[1][0] == cols) return launch_rows<OP, false, true>(a, b, out, n, cols);
    }
    launch_broadcast<2>(L, n, BinaryAt<OP>{a, b, out});
  });
}

void compare(CompareOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
             uint8_t* out, const int64_t* out_shape, int64_t rank) {
  const int64_t n = numel_of(out_shape, rank);
  if (n <= 0) return;
  const int64_t* const strides[2] = {a_strides, b_strides};
  const Layout<2> L = merge_axes<2>(out_shape, rank, strides, "compare");
  if (is_flat(L)) {
    compare_flat_kernel<<<stride_grid(n, kBlock), kBlock, 0, current_stream()>>>(op, a, L.stride[0][0], b,
                                                                                  L.stride[1][0], out, n);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
    return;
  }
  launch_broadcast<2>(L, n, CompareAt{op, a, b, out});
}

void where(const uint8_t* cond, const int64_t* c_strides, const float* a, const int64_t* a_strides, const float* b,
           const int64_t* b_strides, float* out, const int64_t* out_shape, int64_t rank) {
  const int64_t n = numel_of(out_shape, rank);
  if (n <= 0) return;
  const int64_t* const strides[3] = {c_strides, a_strides, b_strides};
  const Layout<3> L = merge_axes<3>(out_shape, rank, strides, "where");
  if (is_flat(L)) {
    where_flat_kernel<<<stride_grid(n, kBlock), kBlock, 0, current_stream()>>>(
        cond, L.stride[0][0], a, L.stride[1][0], b, L.stride[2][0], out, n);
    LOWBIT_CUDA_CHECK(cudaGetLastError());
    return;
  }
  launch_broadcast<3>(L, n, WhereAt{cond, a, b, out});
}

}  // namespace lowbit::cuda
