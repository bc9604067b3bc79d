// Strided copies, dtype conversion, fill and b1 packing on the CPU. Memory-bound loops.
#include "kernels/cpu/copy.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/bitpack.h"

namespace lowbit::cpu {

void copy_strided(void* dst, const int64_t* dst_strides, const void* src, const int64_t* src_strides,
                  const int64_t* shape, int64_t rank, int64_t elem_size) {
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i) total *= shape[i];
  if (total == 0) return;
  auto* d = static_cast<char*>(dst);
  auto* s = static_cast<const char*>(src);
  if (rank == 0) {
    std::memcpy(d, s, static_cast<size_t>(elem_size));
    return;
  }
  int64_t inner = shape[rank - 1];
  int64_t ds = dst_strides[rank - 1] * elem_size, ss = src_strides[rank - 1] * elem_size;
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t rows = total / inner;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t doff = 0, soff = 0;
    for (int64_t k = 0; k + 1 < rank; ++k) {
      doff += idx[k] * dst_strides[k];
      soff += idx[k] * src_strides[k];
    }
    char* dp = d + doff * elem_size;
    const char* sp = s + soff * elem_size;
    if (ds == elem_size && ss == elem_size) {
      std::memcpy(dp, sp, static_cast<size_t>(inner * elem_size));
    } else {
      for (int64_t i = 0; i < inner; ++i) std::memcpy(dp + i * ds, sp + i * ss, static_cast<size_t>(elem_size));
    }
    for (int64_t k = rank - 2; k >= 0; --k) {  // advance the outer multi-index
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

namespace {

float load(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::f16: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case DType::bf16: return bf16_to_float(static_cast<const uint16_t*>(p)[i]);
    case DType::i8: return static_cast<const int8_t*>(p)[i];
    case DType::i32: return static_cast<float>(static_cast<const int32_t*>(p)[i]);
    case DType::u8: return static_cast<const uint8_t*>(p)[i];
    case DType::b1: break;
  }
  LOWBIT_FAIL("convert: b1 is converted by pack/unpack, not elementwise");
}

template <typename I>
I saturate(float v) {
  if (std::isnan(v)) return 0;
  double r = std::nearbyint(static_cast<double>(v));
  if (r < static_cast<double>(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
  if (r > static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(r);
}

void store(void* p, DType t, int64_t i, float v) {
  switch (t) {
    case DType::f32: static_cast<float*>(p)[i] = v; return;
    case DType::f16: static_cast<uint16_t*>(p)[i] = float_to_half(v); return;
    case DType::bf16: static_cast<uint16_t*>(p)[i] = float_to_bf16(v); return;
    case DType::i8: static_cast<int8_t*>(p)[i] = saturate<int8_t>(v); return;
    case DType::i32: static_cast<int32_t*>(p)[i] = saturate<int32_t>(v); return;
    case DType::u8: static_cast<uint8_t*>(p)[i] = saturate<uint8_t>(v); return;
    case DType::b1: break;
  }
  LOWBIT_FAIL("convert: b1 is converted by pack/unpack, not elementwise");
}

}  // namespace

void convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n) {
  if (src_type == DType::i32 && dst_type == DType::i32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * 4);
    return;
  }
  for (int64_t i = 0; i < n; ++i) store(dst, dst_type, i, load(src, src_type, i));
}

void fill(void* dst, DType type, int64_t n, float value) {
  if (type == DType::f32) {
    auto* p = static_cast<float*>(dst);
    for (int64_t i = 0; i < n; ++i) p[i] = value;
    return;
  }
  for (int64_t i = 0; i < n; ++i) store(dst, type, i, value);
}

// Both delegate to kernels/cpu/bitpack (the one packing formula).
void pack_signs(const float* src, uint32_t* dst, int64_t rows, int64_t inner) {
  pack_sign_rows(src, inner, dst, rows, inner);
}

void unpack_signs(const uint32_t* src, float* dst, int64_t rows, int64_t inner) {
  unpack_sign_rows(src, dst, inner, rows, inner);
}

}  // namespace lowbit::cpu
