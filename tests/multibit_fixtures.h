// Test helpers for the multi-bit GEMM tests (CPU and CUDA): a case's label, the exact comparison
// of a kernel's result with the int64 reference, and GEMMs at extreme codes whose results and
// partial sums run close to the int32 limit (operands and reference result).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/ops/multibit.h"
#include "tests/reference/multibit_reference.h"

namespace lowbit::multibit_test {

inline std::string label(CodeFormat fa, CodeFormat fb, int64_t M, int64_t N, int64_t K) {
  return code_format_str(fa) + " x " + code_format_str(fb) + " M" + std::to_string(M) + " N" + std::to_string(N) +
         " K" + std::to_string(K);
}

// got == want element for element (the first three differences are reported).
template <typename T>
void expect_exact(const std::vector<int64_t>& want, const std::vector<T>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (static_cast<int64_t>(got[i]) != want[i] && bad++ < 3)
      ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

// Every code of a is ca, every code of b is cb, K long.
struct ExtremeCodes {
  CodeFormat fa, fb;
  int8_t ca, cb;
  int64_t K;
};

// K·max|a|·max|b| just under 2^31 with s8 × s8 at −1 (where the top planes' negative weights come
// last) running the partial sums of the plane pairs close to −2^31.
inline std::vector<ExtremeCodes> extreme_codes_near_int32_limit() {
  return {{CodeFormat::unsigned_bits(7), CodeFormat::signed_bits(8), 127, -128, 132104},
          {CodeFormat::signed_bits(8), CodeFormat::signed_bits(8), -1, -1, 131071},
          {CodeFormat::signed_bits(8), CodeFormat::signed_bits(8), -128, -128, 131071},
          {CodeFormat::unsigned_bits(7), CodeFormat::binary(), 127, -1, 16909320}};
}

// a [M,K] all t.ca but for a zero at a[zero_at] (one row a little smaller), b [N,K] all t.cb, and
// the reference a·bᵀ.
struct ExtremeGemm {
  std::vector<int8_t> a, b;
  std::vector<int64_t> want;
};
inline ExtremeGemm extreme_gemm(const ExtremeCodes& t, int64_t M, int64_t N, int64_t zero_at) {
  ExtremeGemm g;
  g.a.assign(static_cast<size_t>(M * t.K), t.ca);
  g.b.assign(static_cast<size_t>(N * t.K), t.cb);
  g.a[static_cast<size_t>(zero_at)] = 0;
  g.want = ref::multibit_gemm(g.a, t.fa, g.b, t.fb, M, N, t.K);
  return g;
}

}  // namespace lowbit::multibit_test
