// Multi-bit CPU kernels and codes: every code's bit-plane decomposition, encode/decode round trips
// (AQE's pow2 levels included), and the bit-serial, int8, shift and ADDER GEMMs on every SIMD
// path this CPU runs, one and two threads, against the naive references of
// tests/reference/multibit_reference.h: EXACT equality for the integer paths over awkward sizes,
// bit equality with the same-order f32 sum plus the error bound for the ADDER path. Also the
// CUDA bit-serial combine (plane_words packing, AND/XOR popcount forms, wrapping uint32 sums)
// emulated on the host against the same references.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/multibit.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/multibit_adder.h"
#include "kernels/cpu/multibit_bitserial.h"
#include "kernels/cpu/multibit_codes.h"
#include "kernels/cpu/multibit_int8.h"
#include "kernels/cpu/multibit_shift.h"
#include "kernels/multibit_math.h"
#include "tests/multibit_fixtures.h"
#include "tests/reference/multibit_reference.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using multibit_test::expect_exact;
using multibit_test::ExtremeCodes;
using multibit_test::label;

const int64_t kKs[] = {1, 31, 33, 65, 257, 1000};
struct Mn {
  int64_t M, N;
};
const Mn kShapes[] = {{1, 1}, {7, 13}, {5, 3}};

const std::vector<CodeFormat>& formats() {
  static const std::vector<CodeFormat> f{CodeFormat::unsigned_bits(1), CodeFormat::unsigned_bits(2),
                                         CodeFormat::unsigned_bits(3), CodeFormat::signed_bits(2),
                                         CodeFormat::signed_bits(3),   CodeFormat::binary(),
                                         CodeFormat::ternary(),        CodeFormat::pow2(2),
                                         CodeFormat::pow2(3)};
  return f;
}
const std::vector<CodeFormat>& sign_exponent_formats() {
  static const std::vector<CodeFormat> f{CodeFormat::binary(), CodeFormat::ternary(), CodeFormat::pow2(2),
                                         CodeFormat::pow2(3), CodeFormat::pow2(4)};
  return f;
}

std::vector<cpu::MultibitSimd> simd_paths() {
  std::vector<cpu::MultibitSimd> p{cpu::MultibitSimd::scalar};
  if (cpu::multibit_avx2_supported()) p.push_back(cpu::MultibitSimd::avx2);
  if (cpu::multibit_avx512_supported()) p.push_back(cpu::MultibitSimd::avx512);
  return p;
}
const char* simd_name(cpu::MultibitSimd s) {
  return s == cpu::MultibitSimd::avx512 ? "avx512" : s == cpu::MultibitSimd::avx2 ? "avx2" : "scalar";
}

std::vector<cpu::XnorPath> xnor_paths() {
  std::vector<cpu::XnorPath> p{cpu::XnorPath::scalar};
  if (cpu::xnor_avx2_supported()) p.push_back(cpu::XnorPath::avx2);
  if (cpu::xnor_avx512_supported()) p.push_back(cpu::XnorPath::avx512);
  return p;
}

std::vector<int8_t> values_of(const std::vector<int8_t>& codes, CodeFormat f) {
  std::vector<int8_t> v(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) v[i] = static_cast<int8_t>(ref::multibit_value(f, codes[i]));
  return v;
}

struct Planes {
  std::vector<uint32_t> words;
  std::vector<int32_t> popc;
};
Planes planes_of(const std::vector<int8_t>& codes, CodeFormat f, int64_t rows, int64_t K) {
  const int64_t P = plane_count(f.kind, f.bits);
  Planes p{std::vector<uint32_t>(static_cast<size_t>(rows * P * packed_words(K)) + 1),
           std::vector<int32_t>(static_cast<size_t>(rows * P) + 1)};
  cpu::pack_code_planes(codes.data(), rows, K, f.kind, f.bits, p.words.data(), p.popc.data());
  return p;
}

// ---------------------------------------------------------------- codes

TEST(MultibitCodes, PlanesReconstructEveryCodeValue) {
  std::vector<CodeFormat> all = formats();
  for (int b = 4; b <= 7; ++b) all.push_back(CodeFormat::unsigned_bits(b));
  for (int b = 4; b <= 8; ++b) all.push_back(CodeFormat::signed_bits(b));
  all.push_back(CodeFormat::pow2(4));
  for (CodeFormat f : all) {
    ASSERT_TRUE(code_format_ok(f.kind, f.bits)) << code_format_str(f);
    for (int c : ref::multibit_codes(f)) {
      const int64_t want = ref::multibit_value(f, c);
      EXPECT_TRUE(code_valid(f.kind, f.bits, c)) << code_format_str(f) << " code " << c;
      EXPECT_EQ(code_value(f.kind, c), want) << code_format_str(f) << " code " << c;
      int64_t v = plane_offset(f.kind);
      for (int p = 0; p < plane_count(f.kind, f.bits); ++p) {
        const uint32_t bit = plane_bit(f.kind, c, p);
        ASSERT_LE(bit, 1u);
        v += int64_t{plane_coef(f.kind, f.bits, p)} * bit;
      }
      EXPECT_EQ(v, want) << code_format_str(f) << " code " << c;
      EXPECT_LE(std::llabs(want), value_max_abs(f.kind, f.bits)) << code_format_str(f) << " code " << c;
      if (is_sign_exponent(f.kind)) {
        EXPECT_EQ(pow2_code_float(c), static_cast<float>(want)) << code_format_str(f) << " code " << c;
        for (int32_t a : {-128, -3, 0, 1, 127}) EXPECT_EQ(shift_term(a, c), a * want) << code_format_str(f);
      }
    }
    // Just outside the valid range.
    EXPECT_FALSE(code_valid(f.kind, f.bits, code_max(f.kind, f.bits) + 1)) << code_format_str(f);
    EXPECT_FALSE(code_valid(f.kind, f.bits, code_min(f.kind, f.bits) - 1)) << code_format_str(f);
  }
  EXPECT_FALSE(code_valid(CodeKind::binary, 1, 0));
  EXPECT_FALSE(code_format_ok(CodeKind::unsigned_int, 8));  // 255 does not fit the int8 codes
  EXPECT_FALSE(code_format_ok(CodeKind::pow2, 5));
}

TEST(MultibitCodes, PackedPlanesHoldTheBitsAndZeroPadding) {
  const CodeFormat f = CodeFormat::pow2(3);
  const int64_t rows = 3, K = 45, P = plane_count(f.kind, f.bits), kw = packed_words(K);
  std::vector<int8_t> codes = ref::random_codes(f, rows * K, 5);
  Planes p = planes_of(codes, f, rows, K);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t pl = 0; pl < P; ++pl) {
      int64_t count = 0;
      for (int64_t i = 0; i < kw * 32; ++i) {
        const uint32_t bit = (p.words[(r * P + pl) * kw + i / 32] >> (i % 32)) & 1u;
        const uint32_t want = i < K ? plane_bit(f.kind, codes[r * K + i], static_cast<int>(pl)) : 0u;
        ASSERT_EQ(bit, want) << "row " << r << " plane " << pl << " bit " << i;
        count += bit;
      }
      EXPECT_EQ(p.popc[r * P + pl], count);
    }
}

TEST(MultibitCodes, PlaneWordsPackEveryFormatWithZeroPadding) {
  // plane_words (the packing of both the CPU and the CUDA plane packers) bit by bit against
  // plane_bit, for a row ending inside word 1 and words 2, 3 wholly past it; and plane_value_sum
  // of the plane popcounts (at a stride) against the row's values.
  std::vector<CodeFormat> all = formats();
  for (CodeFormat f : {CodeFormat::unsigned_bits(7), CodeFormat::signed_bits(8), CodeFormat::pow2(4)}) all.push_back(f);
  const int64_t K = 45;
  for (CodeFormat f : all) {
    const int P = plane_count(f.kind, f.bits);
    ASSERT_LE(P, kMaxPlanes) << code_format_str(f);
    std::vector<int8_t> codes = ref::random_codes(f, K, 31);
    const int64_t stride = 3;
    std::vector<int32_t> popc(static_cast<size_t>(P * stride), -1);
    for (int p = 0; p < P; ++p) popc[p * stride] = 0;
    for (int64_t w = 0; w < 4; ++w) {
      uint32_t words[kMaxPlanes];
      std::fill(words, words + kMaxPlanes, 0xdeadbeefu);
      plane_words(f.kind, P, codes.data(), K, w, words);
      for (int p = 0; p < P; ++p) {
        for (int b = 0; b < 32; ++b) {
          const int64_t i = w * 32 + b;
          const uint32_t want = i < K ? plane_bit(f.kind, codes[i], p) : 0u;
          ASSERT_EQ((words[p] >> b) & 1u, want) << code_format_str(f) << " plane " << p << " bit " << i;
        }
        popc[p * stride] += std::popcount(words[p]);
      }
    }
    int64_t values = 0;
    for (int8_t c : codes) values += ref::multibit_value(f, c);
    EXPECT_EQ(plane_value_sum(f.kind, f.bits, popc.data(), stride), values - K * plane_offset(f.kind))
        << code_format_str(f);
  }
}

TEST(MultibitCodes, AqePow2LevelsEncodeToSignExponentCodes) {
  // AQE 3-bit levels (quant/aqe.h) at scale pow2_unit(3) = 1/4.
  EXPECT_EQ(pow2_unit(3), 0.25f);
  EXPECT_EQ(pow2_unit(2), 1.f);
  EXPECT_EQ(pow2_unit(4), 1.f / 64);
  Tensor x = Tensor::from_vector({0.f, 0.25f, -0.25f, 0.5f, -0.5f, 1.f, -1.f, -0.f}, {1, 8});
  Tensor codes = multibit_encode(x, CodeFormat::pow2(3), Tensor::from_vector({pow2_unit(3)}, {1}));
  std::vector<int8_t> got = codes.to_host<int8_t>();
  EXPECT_EQ(got, (std::vector<int8_t>{0, 1, -1, 2, -2, 3, -3, 0}));
  EXPECT_EQ(multibit_decode(codes, CodeFormat::pow2(3), Tensor::from_vector({0.25f}, {1})).to_vector(),
            (std::vector<float>{0.f, 0.25f, -0.25f, 0.5f, -0.5f, 1.f, -1.f, 0.f}));
  // A value between levels, or past the largest one, is refused with its index.
  test::expect_error([&] { multibit_encode(Tensor::from_vector({0.25f, 0.375f}, {1, 2}), CodeFormat::pow2(3),
                                           Tensor::from_vector({0.25f}, {1})); },
                     {"element 1", "0.375", "pow2(3)"});
  test::expect_error([&] { multibit_encode(Tensor::from_vector({2.f}, {1, 1}), CodeFormat::pow2(3),
                                           Tensor::from_vector({0.25f}, {1})); },
                     {"element 0", "pow2(3)"});
}

TEST(MultibitCodes, EncodeDecodeRoundTripPerTensorAndPerRow) {
  const int64_t rows = 4, K = 37;
  for (CodeFormat f : formats()) {
    std::vector<int8_t> codes = ref::random_codes(f, rows * K, 11);
    Tensor ct = Tensor::empty({rows, K}, DType::i8);
    std::copy(codes.begin(), codes.end(), ct.data<int8_t>());
    for (const Tensor& scale : {Tensor::from_vector({0.3f}, {1}), Tensor::from_vector({0.5f, 1.25f, 3.f, 0.07f}, {4})}) {
      Tensor x = multibit_decode(ct, f, scale);
      std::vector<float> xv = x.to_vector(), s = scale.to_vector();
      for (int64_t i = 0; i < rows * K; ++i)
        ASSERT_EQ(xv[i], static_cast<float>(ref::multibit_value(f, codes[i])) * s[s.size() == 1 ? 0 : i / K])
            << code_format_str(f) << " element " << i;
      EXPECT_EQ(multibit_encode(x, f, scale).to_host<int8_t>(), codes) << code_format_str(f);
    }
  }
  test::expect_error([] { multibit_encode(Tensor::zeros({2, 3}), CodeFormat::ternary(), Tensor::from_vector({0.f}, {1})); },
                     {"scale[0]", "> 0"});
  test::expect_error([] { multibit_encode(Tensor::zeros({2, 3}), CodeFormat::ternary(),
                                          Tensor::from_vector({1.f, 1.f, 1.f}, {3})); },
                     {"scale has 3 elements", "want 1", "2"});
  test::expect_error([] { multibit_encode(Tensor::zeros({2, 3}), CodeFormat::binary(), Tensor::from_vector({1.f}, {1})); },
                     {"element 0", "binary"});
}

// ---------------------------------------------------------------- integer GEMMs

TEST(MultibitCpu, BitserialInt8AndShiftEqualIntegerReferenceOnEveryPath) {
  for (CodeFormat fa : formats())
    for (CodeFormat fb : formats())
      for (Mn s : kShapes)
        for (int64_t K : kKs) {
          const std::vector<int8_t> a = ref::random_codes(fa, s.M * K, 100 + K), b = ref::random_codes(fb, s.N * K, 200 + K);
          const std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, s.M, s.N, K);
          const std::string what = label(fa, fb, s.M, s.N, K);
          std::vector<int32_t> c(static_cast<size_t>(s.M * s.N));
          Planes pa = planes_of(a, fa, s.M, K), pb = planes_of(b, fb, s.N, K);
          for (cpu::XnorPath xp : xnor_paths()) {
            std::fill(c.begin(), c.end(), -7);
            cpu::bitserial_gemm(s.M, s.N, K, {pa.words.data(), pa.popc.data(), fa.kind, fa.bits},
                                {pb.words.data(), pb.popc.data(), fb.kind, fb.bits}, c.data(), s.N, {xp, 1});
            expect_exact(want, c, "bitserial xnor path " + std::to_string(static_cast<int>(xp)) + " " + what);
          }
          const std::vector<int8_t> av = values_of(a, fa), bv = values_of(b, fb);
          for (cpu::MultibitSimd simd : simd_paths()) {
            std::fill(c.begin(), c.end(), -7);
            cpu::int8_gemm(s.M, s.N, K, av.data(), K, bv.data(), K, c.data(), s.N, {simd, 1});
            expect_exact(want, c, std::string("int8 ") + simd_name(simd) + " " + what);
            if (!is_sign_exponent(fb.kind)) continue;
            std::fill(c.begin(), c.end(), -7);
            cpu::shift_gemm(s.M, s.N, K, av.data(), K, b.data(), K, c.data(), s.N, {simd, 1});
            expect_exact(want, c, std::string("shift ") + simd_name(simd) + " " + what);
          }
        }
}

TEST(MultibitCpu, StridedOperandsAndTwoThreads) {
  // Row strides past K and ldc past N; big enough for the two-thread split and several B blocks.
  const int64_t M = 67, N = 45, K = 300, ld = 311, ldc = 50;
  const CodeFormat fa = CodeFormat::unsigned_bits(3), fb = CodeFormat::pow2(3);
  std::vector<int8_t> a = ref::random_codes(fa, M * K, 1), b = ref::random_codes(fb, N * K, 2);
  std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, M, N, K);
  std::vector<int8_t> as(static_cast<size_t>(M * ld), 99), bs(static_cast<size_t>(N * ld), 99), bc(bs);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t k = 0; k < K; ++k) as[r * ld + k] = static_cast<int8_t>(ref::multibit_value(fa, a[r * K + k]));
  for (int64_t r = 0; r < N; ++r)
    for (int64_t k = 0; k < K; ++k) {
      bs[r * ld + k] = static_cast<int8_t>(ref::multibit_value(fb, b[r * K + k]));
      bc[r * ld + k] = b[r * K + k];
    }
  for (cpu::MultibitSimd simd : simd_paths())
    for (int threads : {1, 2}) {
      std::vector<int32_t> c(static_cast<size_t>(M * ldc), -7);
      std::vector<int64_t> got(want.size());
      auto check = [&](const char* what) {
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) got[m * N + n] = c[m * ldc + n];
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = N; n < ldc; ++n) ASSERT_EQ(c[m * ldc + n], -7) << what << ": wrote past N";
        expect_exact(want, got, std::string(what) + " " + simd_name(simd) + " threads " + std::to_string(threads));
      };
      cpu::int8_gemm(M, N, K, as.data(), ld, bs.data(), ld, c.data(), ldc, {simd, threads});
      check("int8");
      std::fill(c.begin(), c.end(), -7);
      cpu::shift_gemm(M, N, K, as.data(), ld, bc.data(), ld, c.data(), ldc, {simd, threads});
      check("shift");
    }
  Planes pa = planes_of(a, fa, M, K), pb = planes_of(b, fb, N, K);
  for (int threads : {1, 2}) {
    std::vector<int32_t> c(static_cast<size_t>(M * ldc), -7), got(want.size());
    cpu::bitserial_gemm(M, N, K, {pa.words.data(), pa.popc.data(), fa.kind, fa.bits},
                        {pb.words.data(), pb.popc.data(), fb.kind, fb.bits}, c.data(), ldc,
                        {cpu::XnorPath::automatic, threads});
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) got[m * N + n] = c[m * ldc + n];
    expect_exact(want, got, "bitserial threads " + std::to_string(threads));
  }
}

TEST(MultibitCpu, ExtremeCodesNearTheInt32Limit) {
  // K·max|a|·max|b| just under 2^31: u7 × s8 (127·128) and u7 × pow2(4) (127·64), all at the
  // extreme codes, so every accumulator runs close to the int32 range.
  const ExtremeCodes cases[] = {{CodeFormat::unsigned_bits(7), CodeFormat::signed_bits(8), 127, -128, 132000},
                                {CodeFormat::unsigned_bits(7), CodeFormat::pow2(4), 127, -7, 264000},
                                {CodeFormat::signed_bits(8), CodeFormat::signed_bits(8), -128, -128, 131000}};
  for (const ExtremeCodes& t : cases) {
    const int64_t M = 3, N = 2, K = t.K;
    const auto [a, b, want] = multibit_test::extreme_gemm(t, M, N, 5);  // one row a little smaller
    ASSERT_LE(std::llabs(want[2]), int64_t{INT32_MAX});
    ASSERT_GT(std::llabs(want[2]), int64_t{1} << 30);
    const std::string what = label(t.fa, t.fb, M, N, K);
    for (MultibitPath path : {MultibitPath::bitserial, MultibitPath::int8, MultibitPath::shift}) {
      if (path == MultibitPath::shift && !is_sign_exponent(t.fb.kind)) continue;
      Tensor at = Tensor::empty({M, K}, DType::i8), bt = Tensor::empty({N, K}, DType::i8);
      std::copy(a.begin(), a.end(), at.data<int8_t>());
      std::copy(b.begin(), b.end(), bt.data<int8_t>());
      expect_exact(want, multibit_matmul(at, t.fa, bt, t.fb, {path}).to_host<int32_t>(),
                   std::string(multibit_path_name(path)) + " " + what);
    }
  }
}

// The combine of the CUDA bit-serial GEMM (kernels/cuda/multibit_bitserial.cu) emulated on the
// host: planes from plane_words, per plane pair (p outer, q inner, the kernel's launch order) the
// AND popcount, either counted directly (the tensor-core kernels) or recovered from the XOR
// popcount and the row counts (the CUDA-core kernel), accumulated with bitserial_and_* from the
// init terms.
std::vector<int64_t> and_form_gemm(const std::vector<int8_t>& a, CodeFormat fa, const std::vector<int8_t>& b,
                                   CodeFormat fb, int64_t M, int64_t N, int64_t K, bool from_xor) {
  const int P = plane_count(fa.kind, fa.bits), Q = plane_count(fb.kind, fb.bits);
  const int64_t kw = packed_words(K);
  // Plane-major words [planes, rows, kw] and popcounts [planes, rows], as the CUDA packer lays them.
  auto pack = [&](const std::vector<int8_t>& codes, CodeFormat f, int64_t rows, int planes,
                  std::vector<uint32_t>& words, std::vector<int32_t>& popc) {
    words.assign(static_cast<size_t>(planes * rows * kw), 0u);
    popc.assign(static_cast<size_t>(planes * rows), 0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t w = 0; w < kw; ++w) {
        uint32_t wd[kMaxPlanes];
        plane_words(f.kind, planes, codes.data() + r * K, K, w, wd);
        for (int p = 0; p < planes; ++p) {
          words[(p * rows + r) * kw + w] = wd[p];
          popc[p * rows + r] += std::popcount(wd[p]);
        }
      }
  };
  std::vector<uint32_t> wa, wb;
  std::vector<int32_t> xa, yb;
  pack(a, fa, M, P, wa, xa);
  pack(b, fb, N, Q, wb, yb);
  const int32_t oa = plane_offset(fa.kind), ob = plane_offset(fb.kind);
  std::vector<int64_t> out(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      uint32_t acc = bitserial_and_row_init(plane_value_sum(fa.kind, fa.bits, xa.data() + m, M), ob) +
                     bitserial_and_col_init(plane_value_sum(fb.kind, fb.bits, yb.data() + n, N), K, oa, ob);
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          int32_t both = 0, diff = 0;
          for (int64_t w = 0; w < kw; ++w) {
            const uint32_t x = wa[(p * M + m) * kw + w], y = wb[(q * N + n) * kw + w];
            both += std::popcount(x & y);
            diff += std::popcount(x ^ y);
          }
          if (from_xor) both = popc_and_from_xor(xa[p * M + m], yb[q * N + n], diff);
          acc = bitserial_and_step(acc, plane_coef(fa.kind, fa.bits, p) * plane_coef(fb.kind, fb.bits, q), both);
        }
      out[m * N + n] = bitserial_and_finish(acc);
    }
  return out;
}

TEST(MultibitCpu, CudaAndFormCombineEqualsIntegerReference) {
  for (CodeFormat fa : formats())
    for (CodeFormat fb : formats())
      for (int64_t K : {int64_t{1}, int64_t{31}, int64_t{32}, int64_t{33}, int64_t{64}, int64_t{257}}) {
        const int64_t M = 3, N = 5;
        const std::vector<int8_t> a = ref::random_codes(fa, M * K, 300 + K), b = ref::random_codes(fb, N * K, 400 + K);
        const std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, M, N, K);
        for (bool from_xor : {false, true})
          expect_exact(want, and_form_gemm(a, fa, b, fb, M, N, K, from_xor),
                       std::string(from_xor ? "xor form " : "and form ") + label(fa, fb, M, N, K));
      }
}

TEST(MultibitCpu, CudaAndFormCombineIsExactNearTheInt32Limit) {
  // Extreme codes with K·max|a|·max|b| just under 2^31: the results and the partial sums run close
  // to ±2^31.
  for (const ExtremeCodes& t : multibit_test::extreme_codes_near_int32_limit()) {
    const int64_t M = 2, N = 1;
    const auto [a, b, want] = multibit_test::extreme_gemm(t, M, N, t.K + 3);  // the second row a little smaller
    for (bool from_xor : {false, true})
      expect_exact(want, and_form_gemm(a, t.fa, b, t.fb, M, N, t.K, from_xor),
                   std::string(from_xor ? "xor form " : "and form ") + label(t.fa, t.fb, M, N, t.K));
  }
}

// ---------------------------------------------------------------- ADDER

// f32 activations: uniform [-2, 2) with exact zeros, a negative zero and a subnormal.
std::vector<float> adder_input(int64_t n, uint64_t seed) {
  ref::Arr r = test::random_arr({n}, -2.0, 2.0, seed);
  std::vector<float> v(r.v.begin(), r.v.end());
  for (int64_t i = 0; i < n; i += 11) v[i] = 0.f;
  if (n > 3) v[3] = -0.f;
  if (n > 7) v[7] = 1e-40f;
  return v;
}

TEST(MultibitCpu, AdderEqualsTheSameOrderF32SumAndStaysWithinItsBound) {
  for (cpu::MultibitSimd simd : simd_paths())
    for (CodeFormat fb : sign_exponent_formats())
      for (Mn s : kShapes)
        for (int64_t K : kKs) {
          std::vector<float> a = adder_input(s.M * K, 500 + K);
          std::vector<int8_t> b = ref::random_codes(fb, s.N * K, 600 + K);
          std::vector<float> c(static_cast<size_t>(s.M * s.N), std::nanf(""));
          cpu::adder_gemm(s.M, s.N, K, a.data(), K, b.data(), K, c.data(), s.N, {simd, 1});
          const std::string what = std::string(simd_name(simd)) + " " + code_format_str(fb) + " K" + std::to_string(K);
          std::vector<float> same_order = ref::adder_lanes8_f32(a, b, fb, s.M, s.N, K);
          ref::AdderRef exact = ref::adder_f64(a, b, fb, s.M, s.N, K);
          const double u = std::ldexp(1.0, -24), n = static_cast<double>(K / 8 + 14), gamma = n * u / (1 - n * u);
          for (size_t i = 0; i < c.size(); ++i) {
            ASSERT_EQ(std::memcmp(&c[i], &same_order[i], sizeof(float)), 0)
                << what << ": element " << i << " got " << c[i] << " want " << same_order[i];
            ASSERT_LE(std::fabs(c[i] - exact.sum[i]), gamma * exact.abs_sum[i]) << what << ": element " << i;
          }
        }
}

TEST(MultibitCpu, AdderIsExactOnGridInputs) {
  // Activations on a 2^-6 grid of small magnitude: every partial sum is representable, so any
  // order gives the exact integer-scaled result.
  const CodeFormat fb = CodeFormat::pow2(3);
  const int64_t M = 5, N = 9, K = 1000;
  std::vector<int8_t> q = ref::random_codes(CodeFormat::signed_bits(8), M * K, 7);
  std::vector<float> a(q.size());
  for (size_t i = 0; i < q.size(); ++i) a[i] = std::ldexp(static_cast<float>(q[i]), -6);
  std::vector<int8_t> b = ref::random_codes(fb, N * K, 8);
  std::vector<int64_t> want = ref::multibit_gemm(q, CodeFormat::signed_bits(8), b, fb, M, N, K);
  for (cpu::MultibitSimd simd : simd_paths()) {
    std::vector<float> c(static_cast<size_t>(M * N));
    cpu::adder_gemm(M, N, K, a.data(), K, b.data(), K, c.data(), N, {simd, 2});
    for (size_t i = 0; i < c.size(); ++i)
      ASSERT_EQ(c[i], std::ldexp(static_cast<float>(want[i]), -6)) << simd_name(simd) << " element " << i;
  }
}

}  // namespace
}  // namespace lowbit
