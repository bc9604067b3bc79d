// The CUDA runtime: caching allocator (reuse, empty_cache, out-of-memory message), CPU<->CUDA round
// trips of every dtype, strided copies, device fills and conversions against the CPU, and Philox
// draws on the device against the CPU (bit-identical uniform/randint/dropout, normal within ulps).
// Every test skips without a GPU; the suites are named CUDA* so that ctest labels them gpu.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/device.h"
#include "core/ops/dropout.h"
#include "core/random.h"
#include "core/tensor.h"

namespace lowbit {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA")

const Device kGpu = Device::cuda(0);

// Values that exercise rounding, saturation, signs, ties, infinities and NaN in conversions.
std::vector<float> awkward_values() {
  return {0.f, -0.f, 1.f, -1.f, 0.5f, 1.5f, 2.5f, -2.5f, 127.4f, 127.6f, -128.6f, 255.5f, 300.f, -300.f,
          65504.f, 65520.f, 1e-8f, 6.1e-5f, 3.14159265f, -2.71828f, 1e10f, -1e10f, 16777217.f,
          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
          std::numeric_limits<float>::quiet_NaN(), 1.00048828125f, 1.00146484375f, 33.f, -0.25f};
}

template <typename T>
void expect_same_bytes(const Tensor& a, const Tensor& b) {
  std::vector<T> x = a.to_host<T>(), y = b.to_host<T>();
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(T))) << "shape " << shape_str(a.shape());
}

void expect_same(const Tensor& cpu, const Tensor& gpu) {
  ASSERT_EQ(cpu.dtype(), gpu.dtype());
  switch (cpu.dtype()) {
    case DType::f32: expect_same_bytes<float>(cpu, gpu); break;
    case DType::f16: case DType::bf16: expect_same_bytes<uint16_t>(cpu, gpu); break;
    case DType::i8: expect_same_bytes<int8_t>(cpu, gpu); break;
    case DType::i32: expect_same_bytes<int32_t>(cpu, gpu); break;
    case DType::u8: expect_same_bytes<uint8_t>(cpu, gpu); break;
    case DType::b1: expect_same_bytes<uint32_t>(cpu, gpu); break;
  }
}

const DType kAll[] = {DType::f32, DType::f16, DType::bf16, DType::i8, DType::i32, DType::u8, DType::b1};

TEST(CUDAAllocator, ReusesBlocksWithoutNewMallocs) {
  SKIP_WITHOUT_GPU();
  {  // fill the cache with the two blocks the loop below holds at once
    Tensor a = Tensor::zeros({1000, 37}, DType::f32, kGpu);
    Tensor b = Tensor::zeros({1000, 37}, DType::f32, kGpu);
  }
  CudaMemoryStats before = cuda_memory_stats(0);
  for (int step = 0; step < 20; ++step) {
    Tensor a = Tensor::zeros({1000, 37}, DType::f32, kGpu);
    Tensor b = Tensor::ones({1000, 37}, DType::f32, kGpu);
  }
  CudaMemoryStats after = cuda_memory_stats(0);
  EXPECT_EQ(after.num_cuda_mallocs, before.num_cuda_mallocs);
  EXPECT_GE(after.num_cache_hits - before.num_cache_hits, 40u);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(CUDAAllocator, EmptyCacheReturnsFreeBlocks) {
  SKIP_WITHOUT_GPU();
  { Tensor t = Tensor::empty({4 << 20}, DType::f32, kGpu); }
  EXPECT_GE(cuda_memory_stats(0).bytes_cached, uint64_t{16} << 20);
  Tensor live = Tensor::empty({1024}, DType::f32, kGpu);
  const uint64_t frees = cuda_memory_stats(0).num_cuda_frees;
  cuda_empty_cache();
  CudaMemoryStats s = cuda_memory_stats(0);
  EXPECT_EQ(s.bytes_cached, 0u);
  EXPECT_GT(s.num_cuda_frees, frees);
  EXPECT_GE(s.bytes_in_use, 4096u);  // the live tensor keeps its block
}

TEST(CUDAAllocator, OutOfMemoryMessage) {
  SKIP_WITHOUT_GPU();
  const int64_t petabyte = int64_t{1} << 50;
  try {
    Tensor::empty({petabyte / 4}, DType::f32, kGpu);
    FAIL() << "allocating 1 PB did not throw";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("CUDA out of memory: asked for " + std::to_string(petabyte) + " bytes on cuda:0"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cached"), std::string::npos) << msg;
  }
  Tensor still_works = Tensor::ones({8}, DType::f32, kGpu);  // the failure left nothing sticky
  EXPECT_EQ(still_works.to_vector()[7], 1.f);
}

TEST(CUDARuntime, RoundTripEveryDtype) {
  SKIP_WITHOUT_GPU();
  for (int64_t n : {int64_t{1}, int64_t{31}, int64_t{33}, int64_t{1000}, int64_t{1} << 22}) {
    Tensor f = Tensor::randn({n}, Device::cpu());
    for (DType t : kAll) {
      Tensor host = f.to(t);  // the CPU conversion
      Tensor back = host.to(kGpu).to(Device::cpu());
      expect_same(host, back);
    }
  }
}

TEST(CUDARuntime, LargeRoundTripBeyondStaging) {  // > 32 MiB: the unstaged host-to-device path
  SKIP_WITHOUT_GPU();
  Tensor host = Tensor::arange(0, 9 << 20, 1, DType::i32);
  expect_same(host, host.to(kGpu).to(Device::cpu()));
}

TEST(CUDARuntime, ConversionsMatchCpu) {
  SKIP_WITHOUT_GPU();
  std::vector<float> v = awkward_values();
  Tensor f = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  for (DType from : kAll) {
    if (from == DType::b1) continue;
    Tensor src = f.to(from);
    for (DType to : kAll) {
      if (to == DType::b1) continue;
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      expect_same(src.to(to), src.to(kGpu).to(to).to(Device::cpu()));
    }
  }
}

TEST(CUDARuntime, SignPackingMatchesCpu) {
  SKIP_WITHOUT_GPU();
  for (int64_t inner : {1, 31, 32, 33, 63, 65, 1000}) {
    Tensor x = Tensor::randn({7, inner});
    Tensor packed_cpu = x.to(DType::b1);
    Tensor packed_gpu = x.to(kGpu).to(DType::b1);
    expect_same(packed_cpu, packed_gpu);
    expect_same(packed_cpu.to(DType::f32), packed_gpu.to(DType::f32).to(Device::cpu()));
    expect_same(packed_cpu.to(DType::f16), packed_gpu.to(DType::f16).to(Device::cpu()));
  }
  expect_same(Tensor::zeros({3, 40}, DType::b1), Tensor::zeros({3, 40}, DType::b1, kGpu));
}

TEST(CUDARuntime, FillsMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (DType t : {DType::f32, DType::f16, DType::bf16, DType::i8, DType::i32, DType::u8}) {
    for (float value : {0.f, 1.f, -2.5f, 300.f, 3.14159f}) {
      expect_same(Tensor::full({5, 129}, value, t), Tensor::full({5, 129}, value, t, kGpu));
      Tensor g = Tensor::zeros({5, 129}, t, kGpu);
      g.fill_(value);
      expect_same(Tensor::full({5, 129}, value, t), g);
    }
  }
}

TEST(CUDARuntime, StridedCopiesMatchCpu) {
  SKIP_WITHOUT_GPU();
  Tensor x = Tensor::randn({6, 5, 4, 3});
  for (DType t : {DType::f32, DType::f16, DType::i8, DType::i32}) {
    Tensor xc = x.to(t), xg = xc.to(kGpu);
    Tensor tc = xc.transpose(0, 3).contiguous();  // strided source
    Tensor tg = xg.transpose(0, 3).contiguous();
    expect_same(tc, tg);
    // strided destination: write into a transposed view
    Tensor dc = Tensor::zeros({3, 5, 4, 6}, t), dg = Tensor::zeros({3, 5, 4, 6}, t, kGpu);
    dc.transpose(0, 3).copy_(xc);
    dg.transpose(0, 3).copy_(xg);
    expect_same(dc, dg);
    // fill_ of a non-contiguous view
    Tensor fc = xc.clone(), fg = xg.clone();
    fc.transpose(1, 2).fill_(7.f);
    fg.transpose(1, 2).fill_(7.f);
    expect_same(fc, fg);
  }
}

TEST(CUDARandom, UniformAndRandintBitIdentical) {
  SKIP_WITHOUT_GPU();
  for (int64_t n : {1, 3, 4, 5, 1023, 1 << 20}) {
    Generator a(42), b(42);
    a.set_stream(7);
    b.set_stream(7);
    expect_same(Tensor::rand({n}, Device::cpu(), &a), Tensor::rand({n}, kGpu, &b));
    expect_same(Tensor::randint(-5, 1000003, {n}, Device::cpu(), &a), Tensor::randint(-5, 1000003, {n}, kGpu, &b));
    expect_same(Tensor::randint(INT32_MIN, int64_t{INT32_MAX} + 1, {n}, Device::cpu(), &a),
                Tensor::randint(INT32_MIN, int64_t{INT32_MAX} + 1, {n}, kGpu, &b));
    EXPECT_EQ(a.stream(), b.stream());
  }
}

TEST(CUDARandom, NormalWithinFewUlps) {
  SKIP_WITHOUT_GPU();
  Generator a(3), b(3);
  std::vector<float> c = Tensor::randn({100003}, Device::cpu(), &a).to_vector();
  std::vector<float> g = Tensor::randn({100003}, kGpu, &b).to_vector();
  ASSERT_EQ(c.size(), g.size());
  for (size_t i = 0; i < c.size(); ++i) {
    const float tol = 8.f * std::numeric_limits<float>::epsilon() * std::max(1.f, std::fabs(c[i]));
    ASSERT_NEAR(c[i], g[i], tol) << "element " << i;
  }
}

TEST(CUDARandom, DropoutMaskBitIdentical) {
  SKIP_WITHOUT_GPU();
  Tensor x = Tensor::ones({257, 9});
  for (float p : {0.f, 0.1f, 0.5f, 0.9f}) {
    Generator a(11), b(11);
    expect_same(dropout(x, p, true, &a), dropout(x.to(kGpu), p, true, &b));
  }
}

}  // namespace
}  // namespace lowbit
