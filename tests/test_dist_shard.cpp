// Tests of data-parallel sharding (core/data/shard.h) in the DataLoader: the ranks' shares of a
// batch are every world-th example of the unsharded batch and together exactly that batch (same
// indices, same augmented pixels, same labels); an empty share is passed over; the training
// loop's step count and per-step global batch sizes (tools/train/data_parallel.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/data/loader.h"
#include "core/data/shard.h"
#include "tests/test_util.h"
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include "tools/train/data_parallel.h"
#endif

namespace lowbit::data {
namespace {

TEST(Shard, EveryWorldthPositionOfTheBatch) {
  EXPECT_EQ(shard_positions(8, 4, {0, 2}), (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(shard_positions(8, 4, {1, 2}), (std::vector<int64_t>{9, 11}));
  EXPECT_EQ(shard_positions(8, 3, {1, 2}), (std::vector<int64_t>{9}));
  EXPECT_EQ(shard_positions(8, 1, {1, 2}), (std::vector<int64_t>{}));
  EXPECT_EQ(shard_positions(0, 5, {0, 1}), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  test::expect_error([] { check_shard({2, 2}, "loader"); }, {"shard rank 2 of 2"});
}

// 11 images of 5x5 pixels, 2 channels, all pixels different.
ImageDataset dataset() {
  ImageDataset d;
  d.count = 11;
  d.height = d.width = 5;
  d.channels = 2;
  for (int64_t i = 0; i < d.count * d.image_size(); ++i) d.images.push_back(static_cast<uint8_t>((i * 37) % 251));
  for (int64_t i = 0; i < d.count; ++i) d.labels.push_back(static_cast<uint8_t>(i % 7));
  return d;
}

LoaderOptions options(Shard shard) {
  LoaderOptions o;
  o.batch_size = 4;
  o.seed = 9;
  o.crop_padding = 1;
  o.horizontal_flip = true;
  o.mean = {0.5f};
  o.std = {0.25f};
  o.shard = shard;
  return o;
}

std::vector<Batch> epoch(DataLoader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  for (Batch b; loader.next(b);) out.push_back(b);
  return out;
}

TEST(Shard, TheRanksSharesMakeUpTheBatch) {
  for (int64_t world : {2, 3}) {
    DataLoader whole(dataset(), options({}));
    std::vector<DataLoader*> ranks;
    std::vector<std::unique_ptr<DataLoader>> owned;
    for (int64_t r = 0; r < world; ++r) owned.push_back(std::make_unique<DataLoader>(dataset(), options({r, world})));
    for (int64_t e : {0, 3}) {
      const std::vector<Batch> want = epoch(whole, e);
      ASSERT_EQ(want.size(), 3u);  // 4 + 4 + 3
      std::vector<std::vector<Batch>> got;
      for (auto& l : owned) {
        EXPECT_EQ(l->num_batches(), 3);       // global counts
        EXPECT_EQ(l->num_examples(), 11);
        got.push_back(epoch(*l, e));
      }
      const int64_t size = 5 * 5 * 2;
      for (size_t b = 0; b < want.size(); ++b) {
        const std::vector<float> wx = want[b].images.to_vector();
        const std::vector<int32_t> wy = want[b].labels.to_host<int32_t>();
        for (int64_t r = 0; r < world; ++r) {
          const Batch& share = got[static_cast<size_t>(r)][b];
          const std::vector<float> x = share.images.to_vector();
          const std::vector<int32_t> y = share.labels.to_host<int32_t>();
          const auto step = static_cast<size_t>(world);
          size_t k = 0;
          for (size_t pos = static_cast<size_t>(r); pos < want[b].indices.size(); pos += step, ++k) {
            ASSERT_LT(k, share.indices.size());
            EXPECT_EQ(share.indices[k], want[b].indices[pos]);
            EXPECT_EQ(y[k], wy[pos]);
            const auto at = [&](const std::vector<float>& v, size_t i) {
              return v.begin() + static_cast<int64_t>(i) * size;
            };
            EXPECT_TRUE(std::equal(at(x, k), at(x, k + 1), at(wx, pos)))
                << "batch " << b << " rank " << r << " example " << k;
          }
          EXPECT_EQ(k, share.indices.size());
        }
      }
    }
  }
}

TEST(Shard, AnEmptyShareIsPassedOver) {
  // 11 = 4 + 4 + 3 over 4 ranks: rank 3 has nothing in the last batch, with or without prefetch.
  for (int64_t prefetch : {0, 2}) {
    LoaderOptions o = options({3, 4});
    o.prefetch = prefetch;
    DataLoader l(dataset(), o);
    const std::vector<Batch> got = epoch(l, 0);
    ASSERT_EQ(got.size(), 2u);
    for (const Batch& b : got) EXPECT_EQ(b.size(), 1);
  }
}

#if LOWBIT_HAVE_TRAIN_LIBRARY
TEST(Shard, TrainingStepsLeaveOutALastBatchSmallerThanTheWorld) {
  EXPECT_EQ(data_parallel_steps(11, 4, 1), 3);
  EXPECT_EQ(data_parallel_steps(11, 4, 3), 3);  // last batch 3 examples, one per rank
  EXPECT_EQ(data_parallel_steps(11, 4, 4), 2);  // last batch 3 < 4 ranks: left out
  EXPECT_EQ(data_parallel_steps(12, 4, 4), 3);
  EXPECT_EQ(global_batch_count(11, 4, 0), 4);
  EXPECT_EQ(global_batch_count(11, 4, 2), 3);
  EXPECT_EQ(global_batch_count(11, 4, 3), 0);
}
#endif

}  // namespace
}  // namespace lowbit::data
