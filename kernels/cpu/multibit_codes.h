// CPU loops over multi-bit codes (formats: kernels/multibit_math.h): validation, codes -> int8
// values (zero-padded rows for the int8 GEMM), the bit-plane packing of the bit-serial GEMM with
// each plane's row popcount, the im2col of NHWC codes, and the float <-> code conversions at a
// per-tensor or per-row scale.
// Every matrix is row-major [rows, k] with the reduction axis k innermost.
#pragma once

#include <cstdint>

#include "kernels/multibit_math.h"

namespace lowbit::cpu {

// Index of the first invalid code among n, or -1 when all are valid.
int64_t first_invalid_code(const int8_t* codes, int64_t n, CodeKind kind, int bits);

// dst[r, 0:k] = value(codes[r, 0:k]) as int8 and dst[r, k:ld] = 0 (ld >= k). Values must fit int8
// (every format of multibit_math.h does).
void codes_to_int8(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int8_t* dst, int64_t ld);

// Bit planes of rows of codes: plane p of row r is the packed_words(k) words at
// planes[(r·P + p)·kw] (P = plane_count, kw = packed_words(k)), bit i = plane_bit(code[r, i], p),
// padding bits 0. popc[r·P + p] = popcount of that plane row.
void pack_code_planes(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int bits, uint32_t* planes,
                      int32_t* popc);

// codes[r, i] = the code whose value·scale[r] equals x[r, i] exactly (scale has 1 entry when
// per_row is false); returns the flat index of the first element that is no level of the format
// (and leaves codes partly written), or -1.
int64_t encode_codes(const float* x, int64_t rows, int64_t k, CodeKind kind, int bits, const float* scale,
                     bool per_row, int8_t* codes);
// col [N·OH·OW, KH·KW·C] = the im2col of NHWC codes x, 0 for taps outside the image.
void im2col_codes(const int8_t* x, const MultibitConvGeom& g, int8_t* col);

// x[r, i] = value(codes[r, i])·scale[r] (or scale[0]).
void decode_codes(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, const float* scale, bool per_row,
                  float* x);

}  // namespace lowbit::cpu
