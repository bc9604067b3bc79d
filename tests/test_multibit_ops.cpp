// Multi-bit ops on every device (CUDA instances skip without a GPU): multibit_matmul on each path
// a device runs, exactly equal to the int64 reference over awkward sizes and every code format
// pair; multibit_adder_matmul bit-equal to the f32 sum in the device's documented order (CPU: the
// 8-lane order on f32 inputs; CUDA: increasing k on fp16 inputs); multibit_conv2d exactly equal to
// the int64 zero-padded convolution; and the refused calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/multibit.h"
#include "tests/reference/multibit_reference.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using test::DeviceTest;

const int64_t kKs[] = {1, 31, 33, 65, 257, 1000};
struct Mn {
  int64_t M, N;
};
const Mn kShapes[] = {{1, 1}, {7, 13}, {3, 5}};

const std::vector<CodeFormat> kFormats{CodeFormat::unsigned_bits(1), CodeFormat::unsigned_bits(2),
                                       CodeFormat::unsigned_bits(3), CodeFormat::signed_bits(2),
                                       CodeFormat::signed_bits(3),   CodeFormat::binary(),
                                       CodeFormat::ternary(),        CodeFormat::pow2(3)};

Tensor codes_tensor(const std::vector<int8_t>& codes, const Shape& shape, Device device) {
  Tensor t = Tensor::empty(shape, DType::i8);
  std::copy(codes.begin(), codes.end(), t.data<int8_t>());
  return t.to(device);
}

std::vector<MultibitPath> paths(Device) {
  return {MultibitPath::automatic, MultibitPath::bitserial, MultibitPath::int8, MultibitPath::shift};
}

void expect_exact(const std::vector<int64_t>& want, const Tensor& got, const std::string& what) {
  std::vector<int32_t> g = got.to_host<int32_t>();
  ASSERT_EQ(g.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (g[i] != want[i] && bad++ < 3) ADD_FAILURE() << what << ": element " << i << " got " << g[i] << " want " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

class MultibitMatmulTest : public DeviceTest {};

TEST_P(MultibitMatmulTest, EveryPathEqualsIntegerReference) {
  for (CodeFormat fa : kFormats)
    for (CodeFormat fb : kFormats)
      for (Mn s : kShapes)
        for (int64_t K : kKs) {
          std::vector<int8_t> a = ref::random_codes(fa, s.M * K, 10 + K), b = ref::random_codes(fb, s.N * K, 20 + K);
          const std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, s.M, s.N, K);
          Tensor at = codes_tensor(a, {s.M, K}, device()), bt = codes_tensor(b, {s.N, K}, device());
          for (MultibitPath p : paths(device())) {
            if (p == MultibitPath::shift && !is_sign_exponent(fb.kind)) continue;
            Tensor c = multibit_matmul(at, fa, bt, fb, {p});
            ASSERT_EQ(c.shape(), (Shape{s.M, s.N}));
            ASSERT_EQ(c.dtype(), DType::i32);
            expect_exact(want, c,
                         std::string(multibit_path_name(p)) + " " + code_format_str(fa) + " x " + code_format_str(fb) +
                             " M" + std::to_string(s.M) + " N" + std::to_string(s.N) + " K" + std::to_string(K));
          }
        }
}

TEST_P(MultibitMatmulTest, SeveralTilesAndBlocks) {
  // Past one 64×64 CUDA tile and several K tiles, with ragged edges everywhere.
  const int64_t M = 133, N = 70, K = 1037;
  for (auto [fa, fb] : {std::pair{CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)},
                        std::pair{CodeFormat::pow2(3), CodeFormat::pow2(3)},
                        std::pair{CodeFormat::signed_bits(8), CodeFormat::pow2(4)}}) {
    std::vector<int8_t> a = ref::random_codes(fa, M * K, 1), b = ref::random_codes(fb, N * K, 2);
    const std::vector<int64_t> want = ref::multibit_gemm(a, fa, b, fb, M, N, K);
    Tensor at = codes_tensor(a, {M, K}, device()), bt = codes_tensor(b, {N, K}, device());
    for (MultibitPath p : paths(device()))
      expect_exact(want, multibit_matmul(at, fa, bt, fb, {p}),
                   std::string(multibit_path_name(p)) + " " + code_format_str(fa) + " x " + code_format_str(fb));
  }
}

TEST_P(MultibitMatmulTest, EmptyOperands) {
  const CodeFormat f = CodeFormat::ternary();
  Tensor a0 = codes_tensor({}, {0, 5}, device()), b = codes_tensor(ref::random_codes(f, 15, 3), {3, 5}, device());
  for (MultibitPath p : paths(device())) EXPECT_EQ(multibit_matmul(a0, f, b, f, {p}).shape(), (Shape{0, 3}));
  // K = 0: every sum is 0.
  Tensor ak = codes_tensor({}, {2, 0}, device()), bk = codes_tensor({}, {3, 0}, device());
  for (MultibitPath p : paths(device()))
    EXPECT_EQ(multibit_matmul(ak, f, bk, f, {p}).to_host<int32_t>(), std::vector<int32_t>(6, 0))
        << multibit_path_name(p);
}

TEST_P(MultibitMatmulTest, AutomaticPathChoice) {
  const CodeFormat u1 = CodeFormat::unsigned_bits(1), u3 = CodeFormat::unsigned_bits(3), p3 = CodeFormat::pow2(3);
  if (device().is_cuda()) {
    EXPECT_EQ(multibit_auto_path(u1, CodeFormat::binary(), device()), MultibitPath::int8);
  } else {
    EXPECT_EQ(multibit_auto_path(CodeFormat::binary(), CodeFormat::binary(), device()), MultibitPath::bitserial);
    EXPECT_EQ(multibit_auto_path(u1, CodeFormat::ternary(), device()), MultibitPath::bitserial);
    EXPECT_EQ(multibit_auto_path(CodeFormat::unsigned_bits(2), CodeFormat::ternary(), device()), MultibitPath::int8);
    EXPECT_EQ(multibit_auto_path(u3, p3, device()), MultibitPath::int8);
  }
}

class MultibitConvTest : public DeviceTest {};

TEST_P(MultibitConvTest, EveryPathEqualsIntegerReference) {
  struct Geom {
    int64_t N, H, W, C, O, K, stride, pad;
  };
  const Geom geoms[] = {{2, 5, 7, 3, 5, 3, 1, 1}, {1, 6, 5, 33, 4, 3, 2, 1}, {3, 4, 4, 7, 9, 1, 1, 0},
                        {1, 3, 3, 65, 3, 3, 1, 0}, {2, 5, 6, 2, 3, 2, 2, 2}};
  const std::pair<CodeFormat, CodeFormat> formats[] = {{CodeFormat::binary(), CodeFormat::binary()},
                                                       {CodeFormat::unsigned_bits(2), CodeFormat::ternary()},
                                                       {CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)},
                                                       {CodeFormat::pow2(3), CodeFormat::signed_bits(3)}};
  for (const Geom& gm : geoms)
    for (auto [fx, fw] : formats) {
      std::vector<int8_t> x = ref::random_codes(fx, gm.N * gm.H * gm.W * gm.C, 60 + gm.C),
                          w = ref::random_codes(fw, gm.O * gm.K * gm.K * gm.C, 70 + gm.C);
      const std::vector<int64_t> want =
          ref::multibit_conv2d(x, fx, w, fw, gm.N, gm.H, gm.W, gm.C, gm.O, gm.K, gm.K, gm.stride, gm.pad);
      Tensor xt = codes_tensor(x, {gm.N, gm.H, gm.W, gm.C}, device()),
             wt = codes_tensor(w, {gm.O, gm.K, gm.K, gm.C}, device());
      for (MultibitPath p : paths(device())) {
        if (p == MultibitPath::shift && !is_sign_exponent(fw.kind)) continue;
        Tensor y = multibit_conv2d(xt, fx, wt, fw, gm.stride, gm.pad, {p});
        const int64_t OH = (gm.H + 2 * gm.pad - gm.K) / gm.stride + 1, OW = (gm.W + 2 * gm.pad - gm.K) / gm.stride + 1;
        ASSERT_EQ(y.shape(), (Shape{gm.N, OH, OW, gm.O}));
        expect_exact(want, y,
                     std::string(multibit_path_name(p)) + " " + code_format_str(fx) + " x " + code_format_str(fw) +
                         " C" + std::to_string(gm.C) + " k" + std::to_string(gm.K) + "s" + std::to_string(gm.stride) +
                         "p" + std::to_string(gm.pad));
      }
    }
}

TEST(MultibitConvErrors, RefusedCalls) {
  const CodeFormat t = CodeFormat::ternary();
  Tensor x = codes_tensor(std::vector<int8_t>(2 * 4 * 4 * 3, 1), {2, 4, 4, 3}, Device::cpu());
  Tensor w = codes_tensor(std::vector<int8_t>(5 * 3 * 3 * 3, -1), {5, 3, 3, 3}, Device::cpu());
  test::expect_error([&] { multibit_conv2d(x, t, w.slice(3, 0, 2).contiguous(), t, 1, 1); }, {"input channels"});
  test::expect_error([&] { multibit_conv2d(x, t, w, t, 0, 1); }, {"stride must be >= 1"});
  test::expect_error([&] { multibit_conv2d(x.slice(1, 0, 2).contiguous(), t, w, t, 1, 0); }, {"does not fit"});
  test::expect_error([&] { multibit_conv2d(x, CodeFormat::pow2(7), w, t, 1, 1); }, {"unsupported code format"});
  Tensor bad = codes_tensor(std::vector<int8_t>(2 * 4 * 4 * 3, 2), {2, 4, 4, 3}, Device::cpu());
  test::expect_error([&] { multibit_conv2d(bad, t, w, t, 1, 1); }, {"code 2", "ternary"});
}

class MultibitAdderTest : public DeviceTest {};

TEST_P(MultibitAdderTest, EqualsTheDocumentedF32Order) {
  for (CodeFormat fb : {CodeFormat::binary(), CodeFormat::ternary(), CodeFormat::pow2(3), CodeFormat::pow2(4)})
    for (Mn s : kShapes)
      for (int64_t K : kKs) {
        ref::Arr r = test::random_arr({s.M, K}, -3.0, 3.0, 40 + K);
        Tensor a32 = test::from_ref(r);
        // The values the kernel sees: f32 on the CPU, rounded to fp16 on CUDA.
        Tensor a = device().is_cuda() ? a32.to(DType::f16).to(device()) : a32;
        std::vector<float> av = device().is_cuda() ? a32.to(DType::f16).to(DType::f32).to_vector() : a32.to_vector();
        std::vector<int8_t> b = ref::random_codes(fb, s.N * K, 50 + K);
        Tensor c = multibit_adder_matmul(a, codes_tensor(b, {s.N, K}, device()), fb);
        ASSERT_EQ(c.dtype(), DType::f32);
        std::vector<float> got = c.to_vector();
        std::vector<float> want = device().is_cuda() ? ref::adder_sequential_f32(av, b, fb, s.M, s.N, K)
                                                     : ref::adder_lanes8_f32(av, b, fb, s.M, s.N, K);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
              << code_format_str(fb) << " K" << K << " element " << i << ": got " << got[i] << " want " << want[i];
      }
}

TEST_P(MultibitAdderTest, SeveralTiles) {
  const int64_t M = 70, N = 131, K = 517;
  const CodeFormat fb = CodeFormat::pow2(3);
  Tensor a32 = test::from_ref(test::random_arr({M, K}, -1.0, 1.0, 9));
  Tensor a = device().is_cuda() ? a32.to(DType::f16).to(device()) : a32;
  std::vector<float> av = device().is_cuda() ? a32.to(DType::f16).to(DType::f32).to_vector() : a32.to_vector();
  std::vector<int8_t> b = ref::random_codes(fb, N * K, 10);
  std::vector<float> got = multibit_adder_matmul(a, codes_tensor(b, {N, K}, device()), fb).to_vector();
  std::vector<float> want = device().is_cuda() ? ref::adder_sequential_f32(av, b, fb, M, N, K)
                                               : ref::adder_lanes8_f32(av, b, fb, M, N, K);
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
}

LOWBIT_INSTANTIATE_DEVICES(MultibitMatmulTest);
LOWBIT_INSTANTIATE_DEVICES(MultibitAdderTest);
LOWBIT_INSTANTIATE_DEVICES(MultibitConvTest);

TEST(MultibitErrors, RefusedCalls) {
  const CodeFormat t = CodeFormat::ternary(), u3 = CodeFormat::unsigned_bits(3);
  Tensor a = codes_tensor(ref::random_codes(t, 6, 1), {2, 3}, Device::cpu());
  Tensor b = codes_tensor(ref::random_codes(t, 9, 2), {3, 3}, Device::cpu());
  test::expect_error([&] { multibit_matmul(a, {CodeKind::unsigned_int, 8}, b, t); }, {"unsupported code format", "u8"});
  test::expect_error([&] { multibit_matmul(a, CodeFormat::pow2(5), b, t); }, {"unsupported code format", "pow2(5)"});
  test::expect_error([&] { multibit_matmul(a, t, codes_tensor(std::vector<int8_t>(8, 1), {2, 4}, Device::cpu()), t); },
                     {"same K"});
  test::expect_error([&] { multibit_matmul(Tensor::zeros({2, 3}), t, b, t); }, {"must be i8", "got f32"});
  // A code outside the format, named with its index.
  Tensor bad = codes_tensor({0, 1, 2, -1, 0, 1}, {2, 3}, Device::cpu());
  test::expect_error([&] { multibit_matmul(bad, t, b, t); }, {"code 2", "element 2", "ternary"});
  test::expect_error([&] { multibit_matmul(a, t, codes_tensor({0, 1, 1, -1, 1, 1, 1, 1, 1}, {3, 3}, Device::cpu()),
                                           CodeFormat::binary()); },
                     {"code 0", "element 0", "binary"});
  // The shift path needs sign + exponent codes in b.
  test::expect_error([&] { multibit_matmul(a, u3, codes_tensor(std::vector<int8_t>(9, 3), {3, 3}, Device::cpu()), u3,
                                           {MultibitPath::shift}); },
                     {"shift path", "u3"});
  // K·max|a|·max|b| past int32.
  Tensor big = Tensor::zeros({1, 140000}, DType::i8);
  test::expect_error([&] { multibit_matmul(big, CodeFormat::unsigned_bits(7), big, CodeFormat::signed_bits(8)); },
                     {"K = 140000", "int32"});
  // ADDER: f32 activations on the CPU, sign + exponent codes.
  test::expect_error([&] { multibit_adder_matmul(Tensor::zeros({2, 3}), b, u3); }, {"sign + exponent", "u3"});
  test::expect_error([&] { multibit_adder_matmul(Tensor::zeros({2, 3}).to(DType::f16), b, t); },
                     {"must be f32", "got f16"});
}

TEST(MultibitErrorsCUDA, AdderWantsF16Activations) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device present";
  const CodeFormat t = CodeFormat::ternary();
  Tensor a = codes_tensor(ref::random_codes(t, 6, 1), {2, 3}, Device::cuda());
  test::expect_error([&] { multibit_adder_matmul(Tensor::zeros({2, 3}, DType::f32, Device::cuda()), a, t); },
                     {"must be f16", "got f32"});
}

}  // namespace
}  // namespace lowbit
