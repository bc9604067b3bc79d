// CPU loops over multi-bit codes: validation, int8 values, bit-plane packing and the float
// conversions (see multibit_codes.h; per-code math in kernels/multibit_math.h).
#include "kernels/cpu/multibit_codes.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "kernels/bit_math.h"

namespace lowbit::cpu {

namespace {

// The code whose value is v, or false when no code of the format has that value.
bool code_of_value(CodeKind kind, int bits, int64_t v, int8_t* code) {
  int64_t c = v;
  if (kind == CodeKind::pow2 && v != 0) {
    uint64_t m = static_cast<uint64_t>(v < 0 ? -v : v);
    if (!std::has_single_bit(m)) return false;
    int64_t e = std::countr_zero(m) + 1;
    c = v < 0 ? -e : e;
  }
  if (c < -128 || c > 127 || !code_valid(kind, bits, static_cast<int>(c))) return false;
  *code = static_cast<int8_t>(c);
  return true;
}

}  // namespace

int64_t first_invalid_code(const int8_t* codes, int64_t n, CodeKind kind, int bits) {
  for (int64_t i = 0; i < n; ++i)
    if (!code_valid(kind, bits, codes[i])) return i;
  return -1;
}

void codes_to_int8(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int8_t* dst, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* src = codes + r * k;
    int8_t* out = dst + r * ld;
    if (kind == CodeKind::pow2)
      for (int64_t i = 0; i < k; ++i) out[i] = static_cast<int8_t>(pow2_code_value(src[i]));
    else
      std::memcpy(out, src, static_cast<size_t>(k));
    std::memset(out + k, 0, static_cast<size_t>(ld - k));
  }
}

void pack_code_planes(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, int bits, uint32_t* planes,
                      int32_t* popc) {
  const int P = plane_count(kind, bits);
  const int64_t kw = packed_words(k);
  for (int64_t r = 0; r < rows; ++r) {
    int32_t* count = popc + r * P;
    std::fill(count, count + P, 0);
    for (int64_t w = 0; w < kw; ++w) {
      uint32_t words[kMaxPlanes];
      plane_words(kind, P, codes + r * k, k, w, words);
      for (int p = 0; p < P; ++p) {
        planes[(r * P + p) * kw + w] = words[p];
        count[p] += std::popcount(words[p]);
      }
    }
  }
}

// The loop form of multibit_im2col_source: whole C-byte runs per tap.
void im2col_codes(const int8_t* x, const MultibitConvGeom& g, int8_t* col) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox)
        for (int64_t ky = 0; ky < g.KH; ++ky) {
          const int64_t iy = oy * g.stride - g.pad + ky;
          for (int64_t kx = 0; kx < g.KW; ++kx, col += g.C) {
            const int64_t ix = ox * g.stride - g.pad + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) std::memset(col, 0, static_cast<size_t>(g.C));
            else std::memcpy(col, x + ((n * g.H + iy) * g.W + ix) * g.C, static_cast<size_t>(g.C));
          }
        }
}

int64_t encode_codes(const float* x, int64_t rows, int64_t k, CodeKind kind, int bits, const float* scale,
                     bool per_row, int8_t* codes) {
  for (int64_t r = 0; r < rows; ++r) {
    const float s = scale[per_row ? r : 0];
    for (int64_t i = 0; i < k; ++i) {
      const float v = x[r * k + i];
      const double q = std::nearbyint(static_cast<double>(v) / static_cast<double>(s));
      int8_t c = 0;
      if (!std::isfinite(q) || std::fabs(q) > 128.0 || !code_of_value(kind, bits, static_cast<int64_t>(q), &c) ||
          static_cast<float>(code_value(kind, c)) * s != v)
        return r * k + i;
      codes[r * k + i] = c;
    }
  }
  return -1;
}

void decode_codes(const int8_t* codes, int64_t rows, int64_t k, CodeKind kind, const float* scale, bool per_row,
                  float* x) {
  for (int64_t r = 0; r < rows; ++r) {
    const float s = scale[per_row ? r : 0];
    for (int64_t i = 0; i < k; ++i) x[r * k + i] = static_cast<float>(code_value(kind, codes[r * k + i])) * s;
  }
}

}  // namespace lowbit::cpu
