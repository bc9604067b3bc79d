// Tests for core/data/loader.h: the seeded order is a permutation fixed by (seed, epoch), batches
// carry the right normalized pixels and labels, drop_last and the last partial batch.
#include "core/data/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace lowbit::data {
namespace {

using ::testing::ElementsAre;

// n images of 2x3 pixels; image i has every pixel = i (mod 256) and label i % 10.
ImageDataset make_dataset(int64_t n) {
  ImageDataset d;
  d.count = n;
  d.rows = 2;
  d.cols = 3;
  for (int64_t i = 0; i < n; ++i) {
    for (int p = 0; p < 6; ++p) d.images.push_back(static_cast<uint8_t>(i % 256));
    d.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

TEST(ShuffledOrder, IsAPermutationFixedBySeedAndEpoch) {
  std::vector<int64_t> a = shuffled_order(1000, 5, 0);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(a, iota);
  EXPECT_EQ(a, shuffled_order(1000, 5, 0));
  EXPECT_NE(a, shuffled_order(1000, 5, 1));
  EXPECT_NE(a, shuffled_order(1000, 6, 0));
  EXPECT_THAT(shuffled_order(1, 5, 0), ElementsAre(0));
  EXPECT_TRUE(shuffled_order(0, 5, 0).empty());
}

TEST(BatchLoader, YieldsNormalizedImagesAndLabelsInFileOrder) {
  BatchLoader loader(make_dataset(10), {.batch_size = 4, .shuffle = false, .mean = 0.5f, .std = 0.25f});
  EXPECT_EQ(loader.num_batches(), 3);
  Batch b;
  std::vector<int64_t> sizes;
  int64_t next_index = 0;
  while (loader.next(b)) {
    sizes.push_back(b.size());
    ASSERT_EQ(b.images.shape(), (Shape{b.size(), 6}));
    ASSERT_EQ(b.labels.dtype(), DType::i32);
    std::vector<float> x = b.images.to_vector();
    std::vector<int32_t> y = b.labels.to_host<int32_t>();
    for (int64_t k = 0; k < b.size(); ++k, ++next_index) {
      EXPECT_EQ(y[k], next_index % 10);
      const float want = (static_cast<float>(next_index) / 255.f - 0.5f) / 0.25f;
      for (int p = 0; p < 6; ++p) EXPECT_FLOAT_EQ(x[k * 6 + p], want);
    }
  }
  EXPECT_THAT(sizes, ElementsAre(4, 4, 2));
  EXPECT_FALSE(loader.next(b));
}

TEST(BatchLoader, DropLastAndEpochRestart) {
  BatchLoader loader(make_dataset(10), {.batch_size = 4, .drop_last = true, .seed = 3});
  EXPECT_EQ(loader.num_batches(), 2);
  auto epoch_labels = [&](int64_t epoch) {
    loader.start_epoch(epoch);
    std::vector<int32_t> all;
    Batch b;
    while (loader.next(b)) {
      EXPECT_EQ(b.size(), 4);
      for (int32_t y : b.labels.to_host<int32_t>()) all.push_back(y);
    }
    return all;
  };
  std::vector<int32_t> e0 = epoch_labels(0);
  EXPECT_EQ(e0.size(), 8u);
  EXPECT_EQ(e0, epoch_labels(0));  // the order is a function of (seed, epoch)
  std::vector<int64_t> order = shuffled_order(10, 3, 0);
  for (size_t i = 0; i < e0.size(); ++i) EXPECT_EQ(e0[i], order[i] % 10);
}

TEST(BatchLoader, RefusesBadOptions) {
  EXPECT_THROW(BatchLoader(make_dataset(4), {.batch_size = 0}), Error);
  EXPECT_THROW(BatchLoader(make_dataset(4), {.std = 0.f}), Error);
  EXPECT_THROW(BatchLoader(make_dataset(0), {}), Error);
}

}  // namespace
}  // namespace lowbit::data
