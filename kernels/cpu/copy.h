// CPU kernels for moving and converting elements: strided copy (any element size), dtype
// conversion through float, fill, and b1 sign packing/unpacking along the innermost axis.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace lowbit::cpu {

// Copies a strided view (shape/strides in elements) into another strided view, elem_size bytes
// per element. Both pointers point at the first element of their view.
void copy_strided(void* dst, const int64_t* dst_strides, const void* src, const int64_t* src_strides,
                  const int64_t* shape, int64_t rank, int64_t elem_size);

// Converts n contiguous elements between two non-block dtypes (through float; integers round to
// nearest and saturate).
void convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n);

// Fills n elements of a non-block dtype with value.
void fill(void* dst, DType type, int64_t n, float value);

// Packs rows x inner floats into b1 words (x < 0 -> bit 1), padding bits 0; and back to ±1.
void pack_signs(const float* src, uint32_t* dst, int64_t rows, int64_t inner);
void unpack_signs(const uint32_t* src, float* dst, int64_t rows, int64_t inner);

}  // namespace lowbit::cpu
