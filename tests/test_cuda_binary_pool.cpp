// CUDA binary max-pool (packed NHWC b1) against the CPU kernel, word for word: odd sizes, channel
// counts around the 32-bit word, every stride/padding the deploy graphs use. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/device.h"
#include "core/ops/binary.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "core/random.h"
#include "core/tensor.h"

namespace lowbit {
namespace {

TEST(CUDABinaryPool, MatchesCpuWordForWord) {
  if (!cuda_available()) GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  struct Case {
    int64_t N, H, W, C, k, stride, pad;
  };
  uint64_t seed = 5;
  for (const Case& c : {Case{2, 4, 6, 5, 2, 2, 0}, Case{1, 7, 7, 70, 3, 2, 1}, Case{2, 5, 4, 32, 2, 1, 1},
                        Case{3, 9, 11, 33, 3, 1, 1}, Case{1, 28, 28, 64, 2, 2, 0}}) {
    Generator gen(seed++);
    // Mostly negative values so that all -1 windows occur.
    Tensor x = (Tensor::rand({c.N, c.H, c.W, c.C}, Device::cpu(), &gen) - 0.8f).to(DType::b1);
    Pool2dParams p{c.k, c.k, c.stride, c.stride, c.pad, c.pad};
    std::vector<uint32_t> want = binary_max_pool2d(x, p).to_host<uint32_t>();
    Tensor got = binary_max_pool2d(x.to(Device::cuda(0)), p);
    ASSERT_EQ(got.device(), Device::cuda(0));
    EXPECT_EQ(got.to(Device::cpu()).to_host<uint32_t>(), want) << "C " << c.C << " k " << c.k;
  }
}

}  // namespace
}  // namespace lowbit
