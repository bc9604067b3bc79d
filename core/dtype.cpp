// The dtype table, shape helpers and the f16/bf16 bit conversions.
#include "core/dtype.h"

#include <bit>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace lowbit {

const DTypeInfo& dtype_info(DType t) {
  static const DTypeInfo table[] = {
      {"f32", 1, 4, true}, {"f16", 1, 2, true}, {"bf16", 1, 2, true}, {"i8", 1, 1, false},
      {"i32", 1, 4, false}, {"u8", 1, 1, false}, {"b1", 32, 4, false},
  };
  auto i = static_cast<size_t>(t);
  LOWBIT_CHECK(i < sizeof(table) / sizeof(table[0]), "unknown dtype code ", i);
  return table[i];
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    LOWBIT_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
    LOWBIT_CHECK(!__builtin_mul_overflow(n, d, &n), "shape ", shape_str(shape), " has more elements than int64 holds");
  }
  return n;
}

int64_t storage_bytes(DType t, const Shape& shape) {
  const DTypeInfo& info = dtype_info(t);
  int64_t bytes = 0;
  if (info.block_elems == 1) {
    LOWBIT_CHECK(!__builtin_mul_overflow(shape_numel(shape), info.block_bytes, &bytes), "shape ", shape_str(shape),
                 " of ", info.name, " needs more bytes than int64 holds");
    return bytes;
  }
  if (shape.empty()) return info.block_bytes;
  int64_t inner = shape.back();
  int64_t rows = shape_numel(shape) / (inner == 0 ? 1 : inner);
  if (inner == 0) return 0;
  int64_t blocks = (inner + info.block_elems - 1) / info.block_elems;
  LOWBIT_CHECK(!__builtin_mul_overflow(rows, blocks * info.block_bytes, &bytes), "shape ", shape_str(shape), " of ",
               info.name, " needs more bytes than int64 holds");
  return bytes;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

uint16_t float_to_half(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {                                                    // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into exponent: ok
  return static_cast<uint16_t>(half);
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalize
      int32_t e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(x);
}

uint16_t float_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float bf16_to_float(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

}  // namespace lowbit
