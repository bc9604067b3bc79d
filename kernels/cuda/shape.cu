// CUDA copy_box and pad (kernels/cuda/shape.h). One thread per element of the box (copy_box) or
// of the output (pad), grid-stride; the multi-index comes from dividing the linear index by the
// dims (innermost fastest, so a warp reads and writes consecutive elements of a row).
// Napkin math: pure data movement, 2·elem_size bytes per copied element (+elem_size per padded
// one); the index arithmetic (≤ 8 divisions per element) hides under the memory time for the
// usual ranks (≤ 4).
#include <cstring>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/shape.h"
#include "kernels/shape_math.h"

namespace lowbit::cuda {

namespace {

constexpr int kMaxRank = 8;
constexpr int kThreads = 256;

struct Dims {
  int64_t v[kMaxRank];
};

Dims dims_of(const int64_t* p, int64_t rank) {
  Dims d{};
  for (int64_t i = 0; i < rank; ++i) d.v[i] = p[i];
  return d;
}

// Row-major strides (in elements) of a shape (kernels/shape_math.h).
Dims strides_of(const int64_t* shape, int64_t rank) {
  Dims s{};
  row_major_strides(shape, rank, s.v);
  return s;
}

template <typename T>
__global__ void copy_box_kernel(const T* src, Dims src_strides, int64_t src_base, T* dst, Dims dst_strides,
                                int64_t dst_base, Dims box, int rank, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, so = src_base, d_o = dst_base;
    for (int a = rank - 1; a >= 0; --a) {
      int64_t q = rest / box.v[a], idx = rest - q * box.v[a];
      rest = q;
      so += idx * src_strides.v[a];
      d_o += idx * dst_strides.v[a];
    }
    dst[d_o] = src[so];
  }
}

template <typename T>
__global__ void pad_kernel(const T* src, Dims src_shape, Dims src_strides, T* dst, Dims dst_shape, Dims before,
                           int rank, int64_t n, T fill) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, so = 0;
    bool inside = true;
    for (int a = rank - 1; a >= 0; --a) {
      int64_t q = rest / dst_shape.v[a], idx = rest - q * dst_shape.v[a] - before.v[a];
      rest = q;
      inside = inside && idx >= 0 && idx < src_shape.v[a];
      so += idx * src_strides.v[a];
    }
    dst[i] = inside ? src[so] : fill;
  }
}

void check_args(int64_t rank, int64_t elem_size, const char* what) {
  LOWBIT_CHECK(rank >= 0 && rank <= kMaxRank, what, " (CUDA): rank ", rank, " is above the supported ", kMaxRank);
  LOWBIT_CHECK(elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8, what,
               " (CUDA): unsupported element size ", elem_size, " bytes");
}

template <typename T>
void launch_copy(const void* src, const int64_t* src_shape, const int64_t* src_origin, void* dst,
                 const int64_t* dst_shape, const int64_t* dst_origin, const int64_t* box, int64_t rank, int64_t n) {
  Dims ss = strides_of(src_shape, rank), ds = strides_of(dst_shape, rank);
  const int64_t sb = flat_offset(src_origin, ss.v, rank), db = flat_offset(dst_origin, ds.v, rank);
  copy_box_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
      static_cast<const T*>(src), ss, sb, static_cast<T*>(dst), ds, db, dims_of(box, rank), static_cast<int>(rank), n);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

template <typename T>
void launch_pad(const void* src, const int64_t* src_shape, void* dst, const int64_t* dst_shape, const int64_t* before,
                int64_t rank, int64_t n, const void* fill_elem) {
  T fill;
  std::memcpy(&fill, fill_elem, sizeof(T));
  pad_kernel<T><<<grid_for(n), kThreads, 0, current_stream()>>>(
      static_cast<const T*>(src), dims_of(src_shape, rank), strides_of(src_shape, rank), static_cast<T*>(dst),
      dims_of(dst_shape, rank), dims_of(before, rank), static_cast<int>(rank), n, fill);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_origin, void* dst,
              const int64_t* dst_shape, const int64_t* dst_origin, const int64_t* box, int64_t rank,
              int64_t elem_size) {
  check_args(rank, elem_size, "copy_box");
  int64_t n = 1;
  for (int64_t a = 0; a < rank; ++a) n *= box[a];
  if (n == 0) return;
  switch (elem_size) {
    case 1: return launch_copy<uint8_t>(src, src_shape, src_origin, dst, dst_shape, dst_origin, box, rank, n);
    case 2: return launch_copy<uint16_t>(src, src_shape, src_origin, dst, dst_shape, dst_origin, box, rank, n);
    case 4: return launch_copy<uint32_t>(src, src_shape, src_origin, dst, dst_shape, dst_origin, box, rank, n);
    default: return launch_copy<uint64_t>(src, src_shape, src_origin, dst, dst_shape, dst_origin, box, rank, n);
  }
}

void pad(const void* src, const int64_t* src_shape, void* dst, const int64_t* dst_shape, const int64_t* before,
         int64_t rank, int64_t elem_size, const void* fill_elem) {
  check_args(rank, elem_size, "pad");
  int64_t n = 1;
  for (int64_t a = 0; a < rank; ++a) n *= dst_shape[a];
  if (n == 0) return;
  switch (elem_size) {
    case 1: return launch_pad<uint8_t>(src, src_shape, dst, dst_shape, before, rank, n, fill_elem);
    case 2: return launch_pad<uint16_t>(src, src_shape, dst, dst_shape, before, rank, n, fill_elem);
    case 4: return launch_pad<uint32_t>(src, src_shape, dst, dst_shape, before, rank, n, fill_elem);
    default: return launch_pad<uint64_t>(src, src_shape, dst, dst_shape, before, rank, n, fill_elem);
  }
}

}  // namespace lowbit::cuda
