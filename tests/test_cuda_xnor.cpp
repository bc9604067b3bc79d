// Binary kernels on CUDA (kernels/cuda/xnor_gemm, xnor_conv through xnor_matmul / xnor_conv2d):
// every CUDA path this GPU runs (popc; mma on sm_80+; wgmma on sm_90 with sm_90a code; and
// automatic) must equal the float ±1 reference (tests/reference/xnor.h, int64 sums) and the CPU
// kernel exactly — odd M and N, K around the word and k256 boundaries, odd images, every
// stride/padding, shapes large enough for every tile configuration — and each fused epilogue must
// equal the CPU epilogue bit for bit (f32 values, packed words incl. zero padding bits) and an
// independent per-element reference (also the stand-alone xnor_epilogue op). Inputs are seeded random values that are never 0. Suites
// carry "CUDA" (label gpu) and skip without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "core/ops/binary.h"
#include "core/random.h"
#include "core/tensor.h"
#include "kernels/bit_math.h"
#include "tests/reference/xnor.h"
#include "tests/test_util.h"

#if LOWBIT_WITH_CUDA
#include "kernels/cuda/xnor_gemm.h"
#endif

namespace lowbit::test {
namespace {

class CUDAXnor : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
};
using CUDAXnorGemm = CUDAXnor;
using CUDAXnorConv = CUDAXnor;

// Seeded values in ±[0.05, 1): random signs, never 0.
std::vector<float> nonzero_input(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v = Tensor::rand({n}, Device::cpu(), &gen).to_vector();
  for (float& x : v) x = x < 0.5f ? -(0.05f + 1.9f * x) : 0.05f + 1.9f * (x - 0.5f);
  return v;
}

Tensor packed(const std::vector<float>& v, const Shape& shape) { return Tensor::from_vector(v, shape).to(DType::b1); }

// automatic and every CUDA path this GPU runs.
std::vector<XnorKernel> cuda_kernels() {
  std::vector<XnorKernel> k{XnorKernel::automatic, XnorKernel::cuda_popc};
#if LOWBIT_WITH_CUDA
  if (cuda::xnor_mma_supported()) k.push_back(XnorKernel::cuda_mma);
  else std::cout << "[  NOTE    ] no binary mma.sync on this GPU: cuda_mma not tested\n";
  if (cuda::xnor_wgmma_supported()) k.push_back(XnorKernel::cuda_wgmma);
  else std::cout << "[  NOTE    ] no sm_90a wgmma on this GPU/build: cuda_wgmma not tested\n";
#endif
  return k;
}
const char* name(XnorKernel k) {
  switch (k) {
    case XnorKernel::automatic: return "automatic";
    case XnorKernel::cuda_popc: return "popc";
    case XnorKernel::cuda_mma: return "mma";
    case XnorKernel::cuda_wgmma: return "wgmma";
    default: return "cpu";
  }
}

// Exact equality of an i32 result with int64 reference sums.
void expect_sums(const std::vector<int64_t>& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(got.dtype(), DType::i32) << what;
  std::vector<int32_t> g = got.to_host<int32_t>();
  ASSERT_EQ(g.size(), want.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (g[i] != want[i] && bad++ < 3) ADD_FAILURE() << what << ": element " << i << " got " << g[i] << " want " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

// Bitwise equality of two tensors' storage (i32 sums, f32 values or packed b1 words).
void expect_same_bits(const Tensor& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(want.dtype(), got.dtype()) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  auto words = [](const Tensor& t) {  // the raw 32-bit words of an i32, f32 or b1 tensor
    if (t.dtype() == DType::b1) return t.to_host<uint32_t>();
    std::vector<uint32_t> w(static_cast<size_t>(t.numel()));
    if (t.dtype() == DType::i32) std::memcpy(w.data(), t.to_host<int32_t>().data(), w.size() * 4);
    else std::memcpy(w.data(), t.to_host<float>().data(), w.size() * 4);
    return w;
  };
  std::vector<uint32_t> w = words(want), g = words(got);
  ASSERT_EQ(w.size(), g.size()) << what;
  int64_t bad = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] != g[i] && bad++ < 3)
      ADD_FAILURE() << what << ": word " << i << " got 0x" << std::hex << g[i] << " want 0x" << w[i] << std::dec;
  EXPECT_EQ(bad, 0) << what;
}

const int64_t kKs[] = {1, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000};

// ---------------------------------------------------------------- epilogues

struct Epilogues {
  XnorEpilogue affine, affine_no_bias, threshold;
};

// Per-channel parameters for O channels of sums in [-K, K]: scales/biases in [-2, 2), thresholds
// in [-K/4, K/4] with every mode (ge, le, always +1, always -1) present.
Epilogues make_epilogues(int64_t O, int64_t K, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> q = Tensor::rand({3 * O}, Device::cpu(), &gen).to_vector();
  std::vector<float> scale(O), bias(O);
  std::vector<int32_t> t(O);
  std::vector<uint8_t> mode(O);
  for (int64_t c = 0; c < O; ++c) {
    scale[c] = 4.f * q[c] - 2.f;
    bias[c] = 4.f * q[O + c] - 2.f;
    t[c] = static_cast<int32_t>(std::lround((q[2 * O + c] - 0.5) * 0.5 * static_cast<double>(K)));
    mode[c] = static_cast<uint8_t>(c % 7 < 3 ? 0 : c % 7 < 5 ? 1 : c % 7 == 5 ? 2 : 3);
  }
  Epilogues e;
  e.affine.kind = e.affine_no_bias.kind = XnorEpilogue::Kind::affine;
  e.affine.scale = e.affine_no_bias.scale = Tensor::from_vector(scale, {O});
  e.affine.bias = Tensor::from_vector(bias, {O});
  e.threshold.kind = XnorEpilogue::Kind::threshold;
  e.threshold.threshold = Tensor::from_vector(t, {O});
  e.threshold.mode = Tensor::from_vector(mode, {O});
  return e;
}

XnorEpilogue on_cuda(const XnorEpilogue& ep) {
  XnorEpilogue c = ep;
  for (Tensor* t : {&c.scale, &c.bias, &c.threshold, &c.mode})
    if (t->defined()) *t = t->to(Device::cuda());
  return c;
}

// Independent per-element checks of an epilogue output against int64 reference sums [rows, O].
void expect_epilogue_matches_reference(const std::vector<int64_t>& sums, int64_t O, const XnorEpilogue& ep,
                                       const Tensor& got, const std::string& what) {
  const int64_t rows = static_cast<int64_t>(sums.size()) / O;
  if (ep.kind == XnorEpilogue::Kind::affine) {
    std::vector<float> y = got.to_host<float>(), a = ep.scale.to_vector();
    std::vector<float> b = ep.bias.defined() ? ep.bias.to_vector() : std::vector<float>(O, 0.f);
    int64_t bad = 0;
    for (int64_t i = 0; i < rows * O; ++i) {
      const double want = static_cast<double>(a[i % O]) * static_cast<double>(sums[i]) + b[i % O];
      if (std::abs(y[i] - want) > 1e-5 * (1 + std::abs(want)) && bad++ < 3)
        ADD_FAILURE() << what << ": element " << i << " got " << y[i] << " want " << want;
    }
    EXPECT_EQ(bad, 0) << what;
    return;
  }
  std::vector<uint32_t> words = got.to_host<uint32_t>();
  std::vector<int32_t> t = ep.threshold.to_host<int32_t>();
  std::vector<uint8_t> mode = ep.mode.to_host<uint8_t>();
  const int64_t wpr = packed_words(O);
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < wpr * 32; ++c) {
      const uint32_t bit = (words[r * wpr + c / 32] >> (c % 32)) & 1u;
      uint32_t want = 0;  // padding bits stay 0
      if (c < O) {
        const int64_t s = sums[r * O + c];
        const bool pos = mode[c] == 0 ? s >= t[c] : mode[c] == 1 ? s <= t[c] : mode[c] == 2;
        want = pos ? 0u : 1u;
      }
      if (bit != want && bad++ < 3) ADD_FAILURE() << what << ": row " << r << " channel " << c << " bit " << bit;
    }
  EXPECT_EQ(bad, 0) << what;
}

// ---------------------------------------------------------------- GEMM

TEST_F(CUDAXnorGemm, ExactForEveryKAndPath) {
  struct Case {
    int64_t M, N;
  };
  for (const Case& c : {Case{7, 11}, Case{1, 1}, Case{131, 259}}) {
    for (int64_t K : kKs) {
      std::vector<float> a = nonzero_input(c.M * K, 100 + K), b = nonzero_input(c.N * K, 200 + K);
      std::vector<int64_t> want = ref::xnor_gemm(a, b, c.M, c.N, K);
      Tensor pa = packed(a, {c.M, K}), pb = packed(b, {c.N, K});
      Tensor cpu = xnor_matmul(pa, pb);
      Tensor ga = pa.to(Device::cuda()), gb = pb.to(Device::cuda());
      for (XnorKernel k : cuda_kernels()) {
        std::string what = std::string(name(k)) + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
                           " K=" + std::to_string(K);
        Tensor y = xnor_matmul(ga, gb, {k});
        ASSERT_TRUE(y.device().is_cuda()) << what;
        expect_sums(want, y, what);
        expect_same_bits(cpu, y, what + " vs CPU");
      }
    }
  }
}

TEST_F(CUDAXnorGemm, LargeTilesMatchCpuKernel) {
  // Enough output tiles for the big tile configurations (>= 2 blocks per SM), many K stages, odd
  // edges; K = 4100 has an odd word count (4-byte copies), 4096 the 16-byte ones.
  const int64_t M = 2111, N = 2133;
  for (int64_t K : {int64_t{4096}, int64_t{4100}}) {
    Tensor pa = packed(nonzero_input(M * K, 5 + K), {M, K}), pb = packed(nonzero_input(N * K, 6 + K), {N, K});
    Tensor cpu = xnor_matmul(pa, pb);
    Tensor ga = pa.to(Device::cuda()), gb = pb.to(Device::cuda());
    for (XnorKernel k : cuda_kernels())
      expect_same_bits(cpu, xnor_matmul(ga, gb, {k}), std::string(name(k)) + " K=" + std::to_string(K));
  }
}

TEST_F(CUDAXnorGemm, AllEqualSignsGiveK) {
  Tensor a = Tensor::full({3, 257}, -1.f).to(DType::b1).to(Device::cuda());
  Tensor b = Tensor::full({5, 257}, -2.f).to(DType::b1).to(Device::cuda());
  Tensor z = Tensor::full({5, 257}, 0.5f).to(DType::b1).to(Device::cuda());
  for (XnorKernel k : cuda_kernels()) {
    for (int32_t v : xnor_matmul(a, b, {k}).to_host<int32_t>()) EXPECT_EQ(v, 257) << name(k);
    for (int32_t v : xnor_matmul(a, z, {k}).to_host<int32_t>()) EXPECT_EQ(v, -257) << name(k);
  }
}

TEST_F(CUDAXnorGemm, EpiloguesMatchCpuAndReference) {
  struct Case {
    int64_t M, N, K;
  };
  // N = 37: one partial output word; N = 259: several words and a partial one; the last case
  // runs the big tile configurations.
  for (const Case& c : {Case{9, 37, 65}, Case{131, 259, 1000}, Case{2111, 2133, 1000}}) {
    std::vector<float> a = nonzero_input(c.M * c.K, 300 + c.K), b = nonzero_input(c.N * c.K, 400 + c.K);
    Tensor pa = packed(a, {c.M, c.K}), pb = packed(b, {c.N, c.K});
    Tensor ga = pa.to(Device::cuda()), gb = pb.to(Device::cuda());
    std::vector<int64_t> sums;
    if (c.M * c.N * c.K < 100'000'000) sums = ref::xnor_gemm(a, b, c.M, c.N, c.K);
    const Epilogues e = make_epilogues(c.N, c.K, 7 + c.N);
    for (const XnorEpilogue* ep : {&e.affine, &e.affine_no_bias, &e.threshold}) {
      Tensor cpu = xnor_matmul(pa, pb, *ep);
      const XnorEpilogue gep = on_cuda(*ep);
      for (XnorKernel k : cuda_kernels()) {
        std::string what = std::string(name(k)) + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
                           (ep->kind == XnorEpilogue::Kind::threshold ? " threshold"
                            : ep->bias.defined()                       ? " affine"
                                                                       : " scale");
        Tensor y = xnor_matmul(ga, gb, gep, {k});
        expect_same_bits(cpu, y, what + " vs CPU");
        if (!sums.empty()) expect_epilogue_matches_reference(sums, c.N, *ep, y, what);
      }
    }
  }
}

TEST_F(CUDAXnorGemm, RefusesMismatchedKernels) {
  Tensor a = packed(nonzero_input(2 * 40, 1), {2, 40}), b = packed(nonzero_input(3 * 40, 2), {3, 40});
  EXPECT_THROW(xnor_matmul(a, b, {XnorKernel::cuda_popc}), Error);  // CUDA path, CPU tensors
  EXPECT_THROW(xnor_matmul(a.to(Device::cuda()), b.to(Device::cuda()), {XnorKernel::scalar}), Error);
#if LOWBIT_WITH_CUDA
  if (!cuda::xnor_wgmma_supported()) {
    EXPECT_THROW(xnor_matmul(a.to(Device::cuda()), b.to(Device::cuda()), {XnorKernel::cuda_wgmma}), Error);
  }
#endif
}

TEST_F(CUDAXnor, StandaloneEpilogueMatchesCpu) {
  for (int64_t cols : {int64_t{37}, int64_t{70}}) {
    const int64_t rows = 13;
    Generator gen(cols);
    Tensor s = Tensor::randint(-300, 301, {rows, cols}, Device::cpu(), &gen);
    ASSERT_EQ(s.dtype(), DType::i32);
    const Epilogues e = make_epilogues(cols, 1000, 3 + cols);
    std::vector<int64_t> sums;
    for (int32_t v : s.to_host<int32_t>()) sums.push_back(v);
    for (const XnorEpilogue* ep : {&e.affine, &e.affine_no_bias, &e.threshold}) {
      std::string what = "cols=" + std::to_string(cols) + (ep->kind == XnorEpilogue::Kind::threshold ? " threshold"
                                                           : ep->bias.defined()                       ? " affine"
                                                                                                      : " scale");
      Tensor y = xnor_epilogue(s.to(Device::cuda()), on_cuda(*ep));
      expect_same_bits(xnor_epilogue(s, *ep), y, what + " vs CPU");
      expect_epilogue_matches_reference(sums, cols, *ep, y, what);
    }
  }
}

// ---------------------------------------------------------------- convolution

struct ConvCase {
  int64_t N, H, W, C, O, K;
};

std::string conv_what(XnorKernel k, const ConvCase& c, int64_t stride, int64_t pad) {
  return std::string(name(k)) + " " + std::to_string(c.N) + "x" + std::to_string(c.H) + "x" + std::to_string(c.W) +
         "x" + std::to_string(c.C) + "->" + std::to_string(c.O) + " k" + std::to_string(c.K) + " s" +
         std::to_string(stride) + " p" + std::to_string(pad);
}

TEST_F(CUDAXnorConv, ExactForEveryStridePaddingAndPath) {
  const ConvCase cases[] = {
      {2, 7, 5, 1, 3, 3},   {2, 9, 9, 31, 5, 3},   {1, 8, 6, 32, 4, 3},  {2, 5, 7, 33, 3, 3},
      {1, 6, 6, 65, 2, 3},  {2, 7, 5, 33, 5, 1},   {1, 8, 8, 64, 3, 1},  {1, 3, 3, 257, 2, 3},
      {2, 11, 13, 128, 37, 3}, {1, 9, 7, 64, 70, 3}, {3, 13, 11, 96, 131, 3},
  };
  for (const ConvCase& c : cases) {
    std::vector<float> x = nonzero_input(c.N * c.H * c.W * c.C, 10 + c.C);
    std::vector<float> w = nonzero_input(c.O * c.K * c.K * c.C, 60 + c.C);
    Tensor px = packed(x, {c.N, c.H, c.W, c.C}), pw = packed(w, {c.O, c.K, c.K, c.C});
    Tensor gx = px.to(Device::cuda()), gw = pw.to(Device::cuda());
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1}) {
        std::vector<int64_t> want = ref::xnor_conv2d(x, w, c.N, c.H, c.W, c.C, c.O, c.K, c.K, stride, pad);
        Tensor cpu = xnor_conv2d(px, pw, stride, pad);
        for (XnorKernel k : cuda_kernels()) {
          std::string what = conv_what(k, c, stride, pad);
          Tensor y = xnor_conv2d(gx, gw, stride, pad, {k});
          ASSERT_EQ(y.shape(), cpu.shape()) << what;
          expect_sums(want, y, what);
          expect_same_bits(cpu, y, what + " vs CPU");
        }
      }
  }
}

TEST_F(CUDAXnorConv, WideKernelsAndPadding) {
  // 5×5 with padding up to 2 (windows up to two taps outside), and 1×1 with padding 1 (ring
  // pixels whose only tap is outside: the output is 0).
  struct PadCase {
    ConvCase c;
    int64_t stride, pad;
  };
  for (const PadCase& p : {PadCase{{2, 9, 8, 40, 6, 5}, 1, 2}, PadCase{{1, 7, 10, 64, 9, 5}, 2, 2},
                           PadCase{{2, 6, 5, 33, 4, 1}, 1, 1}, PadCase{{1, 7, 7, 32, 3, 1}, 2, 1}}) {
    const ConvCase& c = p.c;
    std::vector<float> x = nonzero_input(c.N * c.H * c.W * c.C, 20 + c.C);
    std::vector<float> w = nonzero_input(c.O * c.K * c.K * c.C, 70 + c.C);
    Tensor px = packed(x, {c.N, c.H, c.W, c.C}), pw = packed(w, {c.O, c.K, c.K, c.C});
    std::vector<int64_t> want = ref::xnor_conv2d(x, w, c.N, c.H, c.W, c.C, c.O, c.K, c.K, p.stride, p.pad);
    Tensor gx = px.to(Device::cuda()), gw = pw.to(Device::cuda());
    for (XnorKernel k : cuda_kernels())
      expect_sums(want, xnor_conv2d(gx, gw, p.stride, p.pad, {k}), conv_what(k, c, p.stride, p.pad));
  }
}

TEST_F(CUDAXnorConv, LargeTilesMatchCpuKernel) {
  // ResNet-like layers with enough output tiles for the big configurations.
  const ConvCase cases[] = {{8, 56, 56, 64, 256, 3}, {4, 29, 27, 256, 130, 3}};
  for (const ConvCase& c : cases) {
    Tensor px = packed(nonzero_input(c.N * c.H * c.W * c.C, 30 + c.C), {c.N, c.H, c.W, c.C});
    Tensor pw = packed(nonzero_input(c.O * c.K * c.K * c.C, 80 + c.C), {c.O, c.K, c.K, c.C});
    Tensor gx = px.to(Device::cuda()), gw = pw.to(Device::cuda());
    for (int64_t stride : {1, 2}) {
      Tensor cpu = xnor_conv2d(px, pw, stride, 1);
      for (XnorKernel k : cuda_kernels())
        expect_same_bits(cpu, xnor_conv2d(gx, gw, stride, 1, {k}), conv_what(k, c, stride, 1) + " vs CPU");
    }
  }
}

TEST_F(CUDAXnorConv, EpiloguesMatchCpuAndReference) {
  const ConvCase cases[] = {{2, 9, 7, 64, 37, 3}, {2, 7, 5, 33, 5, 1}, {1, 12, 11, 128, 70, 3}};
  for (const ConvCase& c : cases) {
    std::vector<float> x = nonzero_input(c.N * c.H * c.W * c.C, 40 + c.C);
    std::vector<float> w = nonzero_input(c.O * c.K * c.K * c.C, 90 + c.C);
    Tensor px = packed(x, {c.N, c.H, c.W, c.C}), pw = packed(w, {c.O, c.K, c.K, c.C});
    Tensor gx = px.to(Device::cuda()), gw = pw.to(Device::cuda());
    const Epilogues e = make_epilogues(c.O, c.K * c.K * c.C, 11 + c.O);
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1}) {
        std::vector<int64_t> sums = ref::xnor_conv2d(x, w, c.N, c.H, c.W, c.C, c.O, c.K, c.K, stride, pad);
        for (const XnorEpilogue* ep : {&e.affine, &e.affine_no_bias, &e.threshold}) {
          Tensor cpu = xnor_conv2d(px, pw, stride, pad, *ep);
          const XnorEpilogue gep = on_cuda(*ep);
          for (XnorKernel k : cuda_kernels()) {
            std::string what = conv_what(k, c, stride, pad) +
                               (ep->kind == XnorEpilogue::Kind::threshold ? " threshold"
                                : ep->bias.defined()                       ? " affine"
                                                                           : " scale");
            Tensor y = xnor_conv2d(gx, gw, stride, pad, gep, {k});
            expect_same_bits(cpu, y, what + " vs CPU");
            expect_epilogue_matches_reference(sums, c.O, *ep, y, what);
          }
        }
      }
  }
}

}  // namespace
}  // namespace lowbit::test
