// CUDA kernels for moving and converting elements (the twins of kernels/cpu/copy.h): fill with a
// bit pattern, strided copy, dtype conversion, and b1 sign packing/unpacking along the innermost
// axis. Every pointer is device memory; launches go to the current stream and never synchronize.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace lowbit::cuda {

// Sets n elements of elem_size (1, 2 or 4) bytes to the low elem_size bytes of `pattern` (the
// caller encodes the value in the dtype, e.g. with cpu::fill on one host element).
void fill_pattern(void* dst, int64_t n, int64_t elem_size, uint32_t pattern);
// Zeroes nbytes.
void zero_bytes(void* dst, int64_t nbytes);

// Copies a strided view into another (shape/strides in elements, elem_size 1, 2, 4 or 8 bytes,
// rank <= 12); both pointers point at the first element of their view.
void copy_strided(void* dst, const int64_t* dst_strides, const void* src, const int64_t* src_strides,
                  const int64_t* shape, int64_t rank, int64_t elem_size);

// Converts n contiguous elements between two non-block dtypes, exactly as cpu::convert: through
// float, f16/bf16 round to nearest even (NaN kept as the CPU encodes it), integers round to
// nearest even and saturate, NaN -> 0.
void convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n);

// Packs rows x inner floats into b1 words (x < 0 -> bit 1, padding bits 0), and back to +-1.
void pack_signs(const float* src, uint32_t* dst, int64_t rows, int64_t inner);
void unpack_signs(const uint32_t* src, float* dst, int64_t rows, int64_t inner);

}  // namespace lowbit::cuda
