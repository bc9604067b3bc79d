// Element types. Sizes come from a per-dtype (block elements, block bytes) table, so the packed
// b1 type (32 signs per uint32 word along the innermost axis; bit 1 = -1, bit 0 = +1; padding
// bits 0) is an ordinary dtype whose rows round up to whole words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"

namespace lowbit {

using Shape = std::vector<int64_t>;

enum class DType : uint8_t { f32, f16, bf16, i8, i32, u8, b1 };

struct DTypeInfo {
  const char* name;
  int64_t block_elems;  // elements per block (32 for b1, 1 otherwise)
  int64_t block_bytes;  // bytes per block
  bool is_float;
};

LOWBIT_API const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }

// Bytes needed to hold a contiguous tensor of `shape`: for block types the innermost axis is
// rounded up to whole blocks, row by row.
LOWBIT_API int64_t storage_bytes(DType t, const Shape& shape);

// "[2, 3, 4]"
LOWBIT_API std::string shape_str(const Shape& shape);
LOWBIT_API int64_t shape_numel(const Shape& shape);

// Host conversions for the 16-bit float types (round to nearest even; NaN stays NaN).
LOWBIT_API uint16_t float_to_half(float f);
LOWBIT_API float half_to_float(uint16_t h);
LOWBIT_API uint16_t float_to_bf16(float f);
LOWBIT_API float bf16_to_float(uint16_t h);

}  // namespace lowbit
