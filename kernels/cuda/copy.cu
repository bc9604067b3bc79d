// CUDA kernels for fill, strided copy, dtype conversion and b1 packing (kernels/cuda/copy.h).
// Grid-stride loops with 64-bit indices on the current stream; no host synchronization.
//
// Napkin math (bytes per element; floor = bytes / HBM bandwidth, ~3.3 TB/s on H100):
//   fill: write only, elem bytes (4 B for f32 -> ~1.2 ns per 1000 elements... i.e. ~800 G elem/s).
//   strided copy: read + write 2 x elem bytes; the index arithmetic (one div/mod per axis) hides
//     behind the memory time for rank <= ~4; non-unit inner strides waste sector bandwidth.
//   convert: src + dst bytes (f32 -> f16: 6 B), one runtime switch per element (uniform branch).
//   pack: reads 4 B per element, writes 1/8 B (one warp per 32-bit word, __ballot_sync);
//   unpack: writes 4 B, reads 1/8 B (a word is broadcast to the 32 threads that read it).
#include "kernels/cuda/copy.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace lowbit::cuda {

namespace {

constexpr unsigned kThreads = 256;
constexpr int kMaxRank = 12;

template <typename T>
__global__ void fill_kernel(T* dst, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = value;
}

struct StridedArgs {
  int rank;
  int64_t shape[kMaxRank];
  int64_t dst_strides[kMaxRank];
  int64_t src_strides[kMaxRank];
};

template <typename T>
__global__ void copy_strided_kernel(T* dst, const T* src, int64_t n, StridedArgs a) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t rest = i, doff = 0, soff = 0;
    for (int k = a.rank - 1; k >= 0; --k) {
      const int64_t idx = rest % a.shape[k];
      rest /= a.shape[k];
      doff += idx * a.dst_strides[k];
      soff += idx * a.src_strides[k];
    }
    dst[doff] = src[soff];
  }
}

// ---- conversion: the per-element load/store of cpu::convert, on the device ----

__device__ __forceinline__ float load_as_float(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::f16: {
      const uint16_t h = static_cast<const uint16_t*>(p)[i];
      if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu)) {  // NaN: keep sign and payload as the CPU does
        return __uint_as_float((uint32_t(h & 0x8000u) << 16) | 0x7f800000u | (uint32_t(h & 0x3ffu) << 13));
      }
      return __half2float(__ushort_as_half(h));
    }
    case DType::bf16: return __uint_as_float(uint32_t(static_cast<const uint16_t*>(p)[i]) << 16);
    case DType::i8: return static_cast<float>(static_cast<const int8_t*>(p)[i]);
    case DType::i32: return static_cast<float>(static_cast<const int32_t*>(p)[i]);  // round to nearest
    case DType::u8: return static_cast<float>(static_cast<const uint8_t*>(p)[i]);
    default: return 0.f;  // b1: rejected by the launcher
  }
}

// nearbyint + saturate, as the CPU (rintf of a float is exact; NaN -> 0).
template <typename I>
__device__ __forceinline__ I saturate(float v, double lo, double hi) {
  if (isnan(v)) return 0;
  const double r = static_cast<double>(rintf(v));
  if (r < lo) return static_cast<I>(lo);
  if (r > hi) return static_cast<I>(hi);
  return static_cast<I>(r);
}

__device__ __forceinline__ void store_from_float(void* p, DType t, int64_t i, float v) {
  const uint32_t x = __float_as_uint(v);
  const bool nan = (x & 0x7fffffffu) > 0x7f800000u;
  switch (t) {
    case DType::f32: static_cast<float*>(p)[i] = v; return;
    case DType::f16: {  // RNE; NaN encoded as the CPU's float_to_half: sign | 0x7c00 | 0x200
      static_cast<uint16_t*>(p)[i] =
          nan ? uint16_t(((x >> 16) & 0x8000u) | 0x7e00u) : __half_as_ushort(__float2half_rn(v));
      return;
    }
    case DType::bf16: {  // RNE; NaN as the CPU's float_to_bf16: (x >> 16) | 0x40
      static_cast<uint16_t*>(p)[i] = nan ? uint16_t((x >> 16) | 0x40u) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
      return;
    }
    case DType::i8: static_cast<int8_t*>(p)[i] = saturate<int8_t>(v, -128.0, 127.0); return;
    case DType::i32: static_cast<int32_t*>(p)[i] = saturate<int32_t>(v, -2147483648.0, 2147483647.0); return;
    case DType::u8: static_cast<uint8_t*>(p)[i] = saturate<uint8_t>(v, 0.0, 255.0); return;
    default: return;
  }
}

__global__ void convert_kernel(const void* src, DType st, void* dst, DType dt, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    store_from_float(dst, dt, i, load_as_float(src, st, i));
}

// One warp per output word; lane b holds element 32w + b of its row.
__global__ void pack_signs_kernel(const float* src, uint32_t* dst, int64_t rows, int64_t inner, int64_t words) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) >> 5;
  const int64_t nwarps = (int64_t{gridDim.x} * blockDim.x) >> 5;
  const int64_t total = rows * words;
  for (int64_t w = warp; w < total; w += nwarps) {  // uniform per warp: every lane takes part
    const int64_t r = w / words, c = w % words;
    const int64_t col = c * 32 + lane;
    const bool neg = col < inner && src[r * inner + col] < 0.f;
    const uint32_t bits = __ballot_sync(0xffffffffu, neg);
    if (lane == 0) dst[w] = bits;
  }
}

__global__ void unpack_signs_kernel(const uint32_t* src, float* dst, int64_t rows, int64_t inner, int64_t words) {
  const int64_t n = rows * inner;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / inner, col = i % inner;
    dst[i] = ((src[r * words + col / 32] >> (col % 32)) & 1u) ? -1.f : 1.f;
  }
}

template <typename T>
void launch_strided(void* dst, const void* src, int64_t n, const StridedArgs& a) {
  copy_strided_kernel<T><<<grid_for(n, kThreads), kThreads, 0, current_stream()>>>(static_cast<T*>(dst),
                                                                                    static_cast<const T*>(src), n, a);
}

}  // namespace

void fill_pattern(void* dst, int64_t n, int64_t elem_size, uint32_t pattern) {
  if (n <= 0) return;
  const unsigned grid = grid_for(n, kThreads);
  cudaStream_t s = current_stream();
  switch (elem_size) {
    case 1: fill_kernel<uint8_t><<<grid, kThreads, 0, s>>>(static_cast<uint8_t*>(dst), n, uint8_t(pattern)); break;
    case 2: fill_kernel<uint16_t><<<grid, kThreads, 0, s>>>(static_cast<uint16_t*>(dst), n, uint16_t(pattern)); break;
    case 4: fill_kernel<uint32_t><<<grid, kThreads, 0, s>>>(static_cast<uint32_t*>(dst), n, pattern); break;
    default: LOWBIT_FAIL("cuda::fill_pattern: element size ", elem_size, " is not 1, 2 or 4");
  }
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void zero_bytes(void* dst, int64_t nbytes) {
  if (nbytes <= 0) return;
  LOWBIT_CUDA_CHECK(cudaMemsetAsync(dst, 0, static_cast<size_t>(nbytes), current_stream()));
}

void copy_strided(void* dst, const int64_t* dst_strides, const void* src, const int64_t* src_strides,
                  const int64_t* shape, int64_t rank, int64_t elem_size) {
  LOWBIT_CHECK(rank <= kMaxRank, "copy_ (strided, CUDA): rank ", rank, " is above the supported ", kMaxRank);
  int64_t n = 1;
  for (int64_t k = 0; k < rank; ++k) n *= shape[k];
  if (n == 0) return;
  StridedArgs a{};
  a.rank = static_cast<int>(rank);
  for (int64_t k = 0; k < rank; ++k) {
    a.shape[k] = shape[k];
    a.dst_strides[k] = dst_strides[k];
    a.src_strides[k] = src_strides[k];
  }
  switch (elem_size) {
    case 1: launch_strided<uint8_t>(dst, src, n, a); break;
    case 2: launch_strided<uint16_t>(dst, src, n, a); break;
    case 4: launch_strided<uint32_t>(dst, src, n, a); break;
    case 8: launch_strided<uint64_t>(dst, src, n, a); break;
    default: LOWBIT_FAIL("copy_ (strided, CUDA): element size ", elem_size, " is not 1, 2, 4 or 8");
  }
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n) {
  LOWBIT_CHECK(src_type != DType::b1 && dst_type != DType::b1,
               "convert (CUDA): b1 is converted by pack/unpack, not elementwise");
  if (n <= 0) return;
  if (src_type == dst_type) {
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n * dtype_info(src_type).block_bytes),
                                      cudaMemcpyDeviceToDevice, current_stream()));
    return;
  }
  convert_kernel<<<grid_for(n, kThreads), kThreads, 0, current_stream()>>>(src, src_type, dst, dst_type, n);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void pack_signs(const float* src, uint32_t* dst, int64_t rows, int64_t inner) {
  const int64_t words = (inner + 31) / 32;
  if (rows <= 0 || words <= 0) return;
  const int64_t threads = rows * words * 32;
  pack_signs_kernel<<<grid_for(threads, kThreads), kThreads, 0, current_stream()>>>(src, dst, rows, inner, words);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void unpack_signs(const uint32_t* src, float* dst, int64_t rows, int64_t inner) {
  const int64_t words = (inner + 31) / 32;
  if (rows <= 0 || inner <= 0) return;
  unpack_signs_kernel<<<grid_for(rows * inner, kThreads), kThreads, 0, current_stream()>>>(src, dst, rows, inner,
                                                                                           words);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
