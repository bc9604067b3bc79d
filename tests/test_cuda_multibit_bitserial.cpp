// The CUDA bit-serial multi-bit GEMM (kernels/cuda/multibit_bitserial.cu, through multibit_matmul's
// bitserial path and cuda::bitserial_gemm directly): EXACTLY equal to the int64 reference of
// tests/reference/multibit_reference.h for every code format pair over K around the word, 128-bit
// and k256 boundaries with odd M and N; on every XNOR kernel path this GPU runs (popc; mma on
// sm_80+; wgmma on sm_90 with sm_90a code), also on shapes large enough for each tile
// configuration (there against the cuBLAS int8 path, itself tested against the reference, plus
// sampled reference dots); at extreme codes just under the int32 limit; and the CUDA plane packer
// word for word against the CPU one. Suite "CUDAMultibitBitserial" (label gpu): skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "core/ops/multibit.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/multibit_codes.h"
#include "kernels/multibit_math.h"
#include "tests/multibit_fixtures.h"
#include "tests/reference/multibit_reference.h"
#include "tests/test_util.h"

#if LOWBIT_WITH_CUDA
#include "kernels/cuda/multibit_gemm.h"
#include "kernels/cuda/xnor_gemm.h"
#endif

namespace lowbit {
namespace {

using multibit_test::expect_exact;
using multibit_test::ExtremeCodes;
using multibit_test::label;

class CUDAMultibitBitserial : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
};

const int64_t kKs[] = {1, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000};

const std::vector<CodeFormat> kFormats{
    CodeFormat::unsigned_bits(1), CodeFormat::unsigned_bits(2), CodeFormat::unsigned_bits(3),
    CodeFormat::unsigned_bits(7), CodeFormat::signed_bits(2),   CodeFormat::signed_bits(3),
    CodeFormat::signed_bits(8),   CodeFormat::binary(),         CodeFormat::ternary(),
    CodeFormat::pow2(2),          CodeFormat::pow2(3),          CodeFormat::pow2(4)};

Tensor codes_tensor(const std::vector<int8_t>& codes, const Shape& shape, Device device) {
  Tensor t = Tensor::empty(shape, DType::i8);
  std::copy(codes.begin(), codes.end(), t.data<int8_t>());
  return t.to(device);
}

TEST_F(CUDAMultibitBitserial, EveryFormatPairEqualsIntegerReference) {
  struct Mn {
    int64_t M, N;
  };
  for (CodeFormat fa : kFormats)
    for (CodeFormat fb : kFormats)
      for (Mn s : {Mn{1, 1}, Mn{7, 13}, Mn{33, 5}})
        for (int64_t K : kKs) {
          const std::vector<int8_t> a = ref::random_codes(fa, s.M * K, 10 + K), b = ref::random_codes(fb, s.N * K, 20 + K);
          const std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, s.M, s.N, K);
          Tensor c = multibit_matmul(codes_tensor(a, {s.M, K}, Device::cuda()), fa,
                                     codes_tensor(b, {s.N, K}, Device::cuda()), fb, {MultibitPath::bitserial});
          ASSERT_EQ(c.shape(), (Shape{s.M, s.N}));
          ASSERT_EQ(c.dtype(), DType::i32);
          expect_exact(want, c.to_host<int32_t>(), "bitserial " + label(fa, fb, s.M, s.N, K));
        }
}

TEST_F(CUDAMultibitBitserial, ExtremeCodesNearTheInt32Limit) {
  // K·max|a|·max|b| just under 2^31 at the extreme codes (also u7 × pow2(4)); s8 × s8 at −1 runs
  // the partial sums of the plane pairs close to −2^31 before the top pair brings them back.
  std::vector<ExtremeCodes> cases = multibit_test::extreme_codes_near_int32_limit();
  cases.push_back({CodeFormat::unsigned_bits(7), CodeFormat::pow2(4), 127, -7, 264000});
  for (const ExtremeCodes& t : cases) {
    const int64_t M = 3, N = 2;
    const auto [a, b, want] = multibit_test::extreme_gemm(t, M, N, t.K + 5);  // the second row a little smaller
    Tensor c = multibit_matmul(codes_tensor(a, {M, t.K}, Device::cuda()), t.fa, codes_tensor(b, {N, t.K}, Device::cuda()),
                               t.fb, {MultibitPath::bitserial});
    expect_exact(want, c.to_host<int32_t>(), "bitserial " + label(t.fa, t.fb, M, N, t.K));
  }
}

#if LOWBIT_WITH_CUDA

// A CUDA i32 tensor filled with `value` (a sentinel for what a kernel must not touch).
Tensor filled_i32(const Shape& shape, int32_t value) {
  Tensor t = Tensor::empty(shape, DType::i32);
  std::fill(t.data<int32_t>(), t.data<int32_t>() + t.numel(), value);
  return t.to(Device::cuda());
}

// Every XNOR kernel path this GPU runs.
std::vector<cuda::XnorCudaPath> xnor_paths() {
  std::vector<cuda::XnorCudaPath> p{cuda::XnorCudaPath::automatic, cuda::XnorCudaPath::popc};
  if (cuda::xnor_mma_supported()) p.push_back(cuda::XnorCudaPath::mma);
  else std::cout << "[  NOTE    ] no binary mma.sync on this GPU: the mma path is not tested\n";
  if (cuda::xnor_wgmma_supported()) p.push_back(cuda::XnorCudaPath::wgmma);
  else std::cout << "[  NOTE    ] no sm_90a wgmma on this GPU/build: the wgmma path is not tested\n";
  return p;
}

// cuda::bitserial_gemm on rows of stride ld (> K: the extra codes must be ignored) into C with
// ldc = N + 3 (the extra columns must stay untouched); returns the [M, N] sums.
std::vector<int32_t> run_bitserial(const std::vector<int8_t>& a, CodeFormat fa, const std::vector<int8_t>& b,
                                   CodeFormat fb, int64_t M, int64_t N, int64_t K, cuda::XnorCudaPath path,
                                   const std::string& what) {
  const int64_t ld = K + 5, ldc = N + 3;
  std::vector<int8_t> as(static_cast<size_t>(M * ld), 1), bs(static_cast<size_t>(N * ld), 1);
  for (int64_t r = 0; r < M; ++r) std::copy(a.begin() + r * K, a.begin() + (r + 1) * K, as.begin() + r * ld);
  for (int64_t r = 0; r < N; ++r) std::copy(b.begin() + r * K, b.begin() + (r + 1) * K, bs.begin() + r * ld);
  Tensor at = codes_tensor(as, {M, ld}, Device::cuda()), bt = codes_tensor(bs, {N, ld}, Device::cuda());
  Tensor c = filled_i32({M, ldc}, -7);
  cuda::bitserial_gemm(M, N, K, at.data<int8_t>(), ld, fa.kind, fa.bits, bt.data<int8_t>(), ld, fb.kind, fb.bits,
                       c.data<int32_t>(), ldc, path);
  std::vector<int32_t> all = c.to_host<int32_t>(), out(static_cast<size_t>(M * N));
  int bad = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < ldc; ++n) {
      if (n < N) out[m * N + n] = all[m * ldc + n];
      else if (all[m * ldc + n] != -7 && bad++ < 3) ADD_FAILURE() << what << ": wrote past N at row " << m;
    }
  return out;
}

TEST_F(CUDAMultibitBitserial, EveryXnorPathStridedOperands) {
  const std::pair<CodeFormat, CodeFormat> pairs[] = {{CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)},
                                                     {CodeFormat::binary(), CodeFormat::binary()},
                                                     {CodeFormat::unsigned_bits(2), CodeFormat::ternary()},
                                                     {CodeFormat::signed_bits(8), CodeFormat::pow2(4)},
                                                     {CodeFormat::ternary(), CodeFormat::unsigned_bits(1)},
                                                     {CodeFormat::binary(), CodeFormat::signed_bits(3)}};
  const int64_t M = 33, N = 65;
  for (cuda::XnorCudaPath path : xnor_paths())
    for (auto [fa, fb] : pairs)
      for (int64_t K : kKs) {
        const std::vector<int8_t> a = ref::random_codes(fa, M * K, 30 + K), b = ref::random_codes(fb, N * K, 40 + K);
        const std::string what = std::string(cuda::xnor_cuda_path_name(path)) + " " + label(fa, fb, M, N, K);
        expect_exact(ref::multibit_gemm(a, fa, b, fb, M, N, K), run_bitserial(a, fa, b, fb, M, N, K, path, what), what);
      }
}

TEST_F(CUDAMultibitBitserial, EveryTileConfigurationAgainstInt8) {
  // Big enough for the large tiles of every path (popc and mma pick 128×128 tiles from 2 blocks
  // per SM on: 2100² outputs = 289 tiles; wgmma 128×256), with ragged edges; compared with the
  // cuBLAS int8 path element for element and with reference dots at sampled positions.
  const int64_t M = 2100, N = 2099, K = 515;
  for (auto [fa, fb] : {std::pair{CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)},
                        std::pair{CodeFormat::binary(), CodeFormat::ternary()}}) {
    const std::vector<int8_t> a = ref::random_codes(fa, M * K, 51), b = ref::random_codes(fb, N * K, 52);
    Tensor at = codes_tensor(a, {M, K}, Device::cuda()), bt = codes_tensor(b, {N, K}, Device::cuda());
    const std::vector<int32_t> want = multibit_matmul(at, fa, bt, fb, {MultibitPath::int8}).to_host<int32_t>();
    for (int64_t i = 0; i < 64; ++i) {
      const int64_t m = (i * 7919 + 13) % M, n = (i * 104729 + 5) % N;
      int64_t dot = 0;
      for (int64_t k = 0; k < K; ++k) dot += ref::multibit_value(fa, a[m * K + k]) * ref::multibit_value(fb, b[n * K + k]);
      ASSERT_EQ(want[m * N + n], dot) << "int8 path at (" << m << ", " << n << ")";
    }
    for (cuda::XnorCudaPath path : xnor_paths()) {
      Tensor c = Tensor::empty({M, N}, DType::i32, Device::cuda());
      cuda::bitserial_gemm(M, N, K, at.data<int8_t>(), K, fa.kind, fa.bits, bt.data<int8_t>(), K, fb.kind, fb.bits,
                           c.data<int32_t>(), N, path);
      const std::vector<int32_t> got = c.to_host<int32_t>();
      int bad = 0;
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != want[i] && bad++ < 3)
          ADD_FAILURE() << cuda::xnor_cuda_path_name(path) << " " << label(fa, fb, M, N, K) << ": element " << i
                        << " got " << got[i] << " want " << want[i];
      EXPECT_EQ(bad, 0) << cuda::xnor_cuda_path_name(path);
    }
  }
}

TEST_F(CUDAMultibitBitserial, PackedPlanesEqualTheCpuPacker) {
  // cuda::pack_code_planes ([P, rows, ldw], strided code rows) word for word against
  // cpu::pack_code_planes ([rows, P, kw]); words kw..ldw are 0.
  const int64_t rows = 5;
  for (CodeFormat f : kFormats)
    for (int64_t K : {int64_t{1}, int64_t{31}, int64_t{32}, int64_t{33}, int64_t{1000}}) {
      const int P = plane_count(f.kind, f.bits);
      const int64_t kw = packed_words(K), ldw = (kw + 3) / 4 * 4 + 4, ld = K + 7;
      const std::vector<int8_t> codes = ref::random_codes(f, rows * K, 60 + K);
      std::vector<int8_t> strided(static_cast<size_t>(rows * ld), 1);
      for (int64_t r = 0; r < rows; ++r)
        std::copy(codes.begin() + r * K, codes.begin() + (r + 1) * K, strided.begin() + r * ld);
      std::vector<uint32_t> want(static_cast<size_t>(rows * P * kw));
      std::vector<int32_t> want_popc(static_cast<size_t>(rows * P));
      cpu::pack_code_planes(codes.data(), rows, K, f.kind, f.bits, want.data(), want_popc.data());

      Tensor ct = codes_tensor(strided, {rows, ld}, Device::cuda());
      Tensor planes = filled_i32({P * rows * ldw}, -1);
      Tensor popc = Tensor::empty({P * rows}, DType::i32, Device::cuda());
      cuda::pack_code_planes(ct.data<int8_t>(), rows, K, ld, f.kind, f.bits,
                             reinterpret_cast<uint32_t*>(planes.data<int32_t>()), ldw, popc.data<int32_t>());
      const std::vector<int32_t> got = planes.to_host<int32_t>(), got_popc = popc.to_host<int32_t>();
      const std::string what = code_format_str(f) + " K" + std::to_string(K);
      for (int p = 0; p < P; ++p)
        for (int64_t r = 0; r < rows; ++r) {
          ASSERT_EQ(got_popc[p * rows + r], want_popc[r * P + p]) << what << " plane " << p << " row " << r;
          for (int64_t w = 0; w < ldw; ++w)
            ASSERT_EQ(static_cast<uint32_t>(got[(p * rows + r) * ldw + w]), w < kw ? want[(r * P + p) * kw + w] : 0u)
                << what << " plane " << p << " row " << r << " word " << w;
        }
    }
}

TEST_F(CUDAMultibitBitserial, RefusesUnalignedPlaneRows) {
  // The XNOR kernels load 16 bytes at a time: plane rows must be a multiple of 4 words apart.
  const CodeFormat t = CodeFormat::ternary();
  const int64_t M = 3, N = 2, K = 40, ldw = 2;
  Tensor planes = filled_i32({2 * M * ldw}, 0), popc = filled_i32({2 * M}, 0);
  Tensor c = Tensor::empty({M, N}, DType::i32, Device::cuda());
  const cuda::DevicePlanes p{reinterpret_cast<const uint32_t*>(planes.data<int32_t>()), ldw, popc.data<int32_t>(),
                             t.kind, t.bits};
  test::expect_error([&] { cuda::bitserial_gemm_planes(M, N, K, p, p, c.data<int32_t>(), N); }, {"16-byte aligned"});
}

#endif  // LOWBIT_WITH_CUDA

}  // namespace
}  // namespace lowbit
