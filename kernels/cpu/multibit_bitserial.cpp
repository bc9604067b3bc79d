// CPU bit-serial GEMM: blocks of plane-pair XNOR dots from xnor_gemm, combined into the exact
// integer products (see multibit_bitserial.h).
#include "kernels/cpu/multibit_bitserial.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/multibit_parallel.h"
#include "kernels/multibit_math.h"

namespace lowbit::cpu {

namespace {

constexpr int64_t kBBlockBytes = int64_t{384} << 10;  // stacked B planes per block (L2)
constexpr int64_t kDotBlockBytes = int64_t{2} << 20;  // plane-pair dots per block

struct Planes {
  int P;
  int32_t offset;
  std::vector<int64_t> coef;
};

Planes planes_of(const PlaneOperand& o) {
  Planes p{plane_count(o.kind, o.bits), plane_offset(o.kind), {}};
  for (int i = 0; i < p.P; ++i) p.coef.push_back(plane_coef(o.kind, o.bits, i));
  return p;
}

// Σ_p coef_p·popc_p of each row: the row's sum of values minus its offset part.
std::vector<int64_t> plane_sums(const PlaneOperand& o, const Planes& p, int64_t rows) {
  std::vector<int64_t> s(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) s[r] = plane_value_sum(o.kind, o.bits, o.popc + r * p.P, 1);
  return s;
}

}  // namespace

void bitserial_gemm(int64_t M, int64_t N, int64_t K, const PlaneOperand& a, const PlaneOperand& b, int32_t* C,
                    int64_t ldc, const XnorGemmConfig& config) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && K >= 0 && ldc >= N, "bitserial_gemm: bad sizes M = ", M, ", N = ", N, ", K = ", K,
               ", ldc = ", ldc);
  LOWBIT_CHECK(code_format_ok(a.kind, a.bits) && code_format_ok(b.kind, b.bits), "bitserial_gemm: bad code format");
  if (M == 0 || N == 0) return;
  const Planes pa = planes_of(a), pb = planes_of(b);
  const int P = pa.P, Q = pb.P;
  const int64_t kw = packed_words(K);
  // 4·C = Σ_pq c_p·d_q·D_pq + row[m] + col[n] + base (kernels/multibit_math.h).
  const std::vector<int64_t> sa = plane_sums(a, pa, M), sb = plane_sums(b, pb, N);
  int64_t sum_c = 0, sum_d = 0;
  for (int64_t c : pa.coef) sum_c += c;
  for (int64_t d : pb.coef) sum_d += d;
  const int64_t base = bitserial_base_term(K, pa.offset, pb.offset, sum_c, sum_d);
  std::vector<int64_t> cd(static_cast<size_t>(P * Q));
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) cd[p * Q + q] = pa.coef[p] * pb.coef[q];
  const int64_t nb = std::clamp<int64_t>(kBBlockBytes / std::max<int64_t>(Q * kw * 4, 1), 1, N);
  const int64_t mb = std::clamp<int64_t>(kDotBlockBytes / (P * nb * Q * 4), 1, M);
  std::vector<int32_t> dots(static_cast<size_t>(mb * P * nb * Q));
  for (int64_t n0 = 0; n0 < N; n0 += nb) {
    const int64_t nn = std::min(nb, N - n0), ld = nn * Q;
    std::vector<int64_t> col(static_cast<size_t>(nn));
    for (int64_t j = 0; j < nn; ++j) col[j] = bitserial_side_term(sb[n0 + j], pa.offset, sum_c) + base;
    for (int64_t m0 = 0; m0 < M; m0 += mb) {
      const int64_t mm = std::min(mb, M - m0);
      xnor_gemm(mm * P, ld, kw, K, a.planes + m0 * P * kw, kw, b.planes + n0 * Q * kw, kw, dots.data(), ld, config);
      parallel_rows(mm, 1, mm * nn * P * Q, config.threads, [&](int64_t r0, int64_t r1) {
        std::vector<int64_t> acc(static_cast<size_t>(nn));
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t m = m0 + r, row = bitserial_side_term(sa[m], pb.offset, sum_d);
          for (int64_t j = 0; j < nn; ++j) acc[j] = row + col[j];
          for (int p = 0; p < P; ++p)
            for (int q = 0; q < Q; ++q) {
              const int64_t w = cd[p * Q + q];
              const int32_t* d = dots.data() + (r * P + p) * ld + q;
              for (int64_t j = 0; j < nn; ++j) acc[j] += w * d[j * Q];
            }
          int32_t* c = C + m * ldc + n0;
          for (int64_t j = 0; j < nn; ++j) c[j] = bitserial_finish(acc[j]);
        }
      });
    }
  }
}

}  // namespace lowbit::cpu
