// Tests for kernels/philox.h: Random123 known-answer vectors, distribution moments, ranges,
// seed/stream independence and determinism.
#include "kernels/philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace ph = lowbit::philox;

namespace {

constexpr int kN = 1000000;

void expect_kat(ph::U4 ctr, uint32_t k0, uint32_t k1, ph::U4 want) {
  const ph::U4 got = ph::philox4x32_10(ctr, k0, k1);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(got.x[j], want.x[j]) << "word " << j;
}

}  // namespace

TEST(Philox, KnownAnswerVectors) {
  expect_kat({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}});
  expect_kat({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
             {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}});
  expect_kat({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
             {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}});
}

TEST(Philox, BitsFollowStreamConvention) {
  const uint64_t seed = 0x0123456789abcdefull, stream = 0xfedcba9876543210ull;
  const uint64_t b = 0x100000002ull;
  const ph::U4 w = ph::philox4x32_10({{2u, 1u, 0x76543210u, 0xfedcba98u}}, 0x89abcdefu, 0x01234567u);
  for (uint64_t lane = 0; lane < 4; ++lane) EXPECT_EQ(ph::bits(seed, stream, 4 * b + lane), w.x[lane]);
}

TEST(Philox, ToUniformEndpoints) {
  EXPECT_EQ(ph::to_uniform(0u), 0.0f);
  EXPECT_LT(ph::to_uniform(0xffffffffu), 1.0f);
  EXPECT_EQ(ph::to_uniform(0xffffffffu), 1.0f - 1.0f / 16777216.0f);
}

TEST(Philox, UniformMoments) {
  double sum = 0, sq = 0;
  for (int i = 0; i < kN; ++i) {
    const float u = ph::uniform(42, 7, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    sq += double(u) * u;
  }
  const double mean = sum / kN, var = sq / kN - mean * mean;
  EXPECT_NEAR(mean, 0.5, 0.002);
  EXPECT_NEAR(var, 1.0 / 12.0, 0.002);
}

TEST(Philox, NormalMoments) {
  double sum = 0, sq = 0;
  for (int i = 0; i < kN; ++i) {
    const float x = ph::normal(42, 7, i);
    ASSERT_TRUE(std::isfinite(x));
    ASSERT_LT(std::fabs(x), 7.0f);
    sum += x;
    sq += double(x) * x;
  }
  const double mean = sum / kN, var = sq / kN - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(var, 1.0, 0.01);
}

TEST(Philox, RandintCoversRangeEvenly) {
  const int64_t low = -3, high = 7;
  int64_t counts[10] = {};
  for (int i = 0; i < kN; ++i) {
    const int64_t v = ph::randint(9, 3, i, low, high);
    ASSERT_GE(v, low);
    ASSERT_LT(v, high);
    ++counts[v - low];
  }
  const double expected = double(kN) / 10;
  for (int64_t c : counts) EXPECT_NEAR(double(c), expected, 0.03 * expected);
}

TEST(Philox, RandintFullRange) {
  const int64_t low = 0, high = int64_t{1} << 32;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(ph::randint(5, 6, i, low, high), ph::bits(5, 6, i));
}

TEST(Philox, BernoulliRate) {
  int hits = 0;
  for (int i = 0; i < kN; ++i) hits += ph::bernoulli(11, 0, i, 0.3f);
  EXPECT_NEAR(double(hits) / kN, 0.3, 0.003);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(ph::bernoulli(11, 0, i, 0.0f));
    EXPECT_TRUE(ph::bernoulli(11, 0, i, 1.0f));
  }
}

TEST(Philox, SeedsAndStreamsDiffer) {
  constexpr int n = 64;
  int same_seed = 0, same_stream = 0;
  for (int i = 0; i < n; ++i) {
    same_seed += ph::bits(1, 0, i) == ph::bits(2, 0, i);
    same_stream += ph::bits(1, 0, i) == ph::bits(1, 1, i);
  }
  EXPECT_EQ(same_seed, 0);
  EXPECT_EQ(same_stream, 0);
  // The high halves of seed and stream matter too.
  EXPECT_NE(ph::bits(1, 0, 0), ph::bits(1 + (uint64_t{1} << 32), 0, 0));
  EXPECT_NE(ph::bits(1, 0, 0), ph::bits(1, uint64_t{1} << 32, 0));
}

TEST(Philox, Deterministic) {
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(ph::bits(3, 4, i), ph::bits(3, 4, i));
    EXPECT_EQ(ph::uniform(3, 4, i), ph::uniform(3, 4, i));
    EXPECT_EQ(ph::normal(3, 4, i), ph::normal(3, 4, i));
    EXPECT_EQ(ph::randint(3, 4, i, 0, 100), ph::randint(3, 4, i, 0, 100));
  }
}

TEST(Philox, NormalPairsShareBlock) {
  // Elements 4b+0/4b+1 come from lanes (0,1): r*cos and r*sin of the same radius and angle.
  for (uint64_t b = 0; b < 100; ++b) {
    for (uint64_t half = 0; half < 2; ++half) {
      const float c = ph::normal(8, 9, 4 * b + 2 * half), s = ph::normal(8, 9, 4 * b + 2 * half + 1);
      const float u1 = float((ph::bits(8, 9, 4 * b + 2 * half) >> 8) + 1u) / 16777216.0f;
      EXPECT_NEAR(double(c) * c + double(s) * s, -2.0 * std::log(double(u1)), 1e-3);
    }
  }
}
