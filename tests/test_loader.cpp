// Tests for core/data/loader.h and core/data/augment.h: the seeded order is a permutation fixed by
// (seed, epoch); every example appears once per epoch; drop_last, limit; exact per-channel
// normalization; crop/flip against an independent pad-then-slice reference; the prefetch thread
// gives the synchronous batches, stops cleanly mid-epoch and passes exceptions on; batches feed an
// MLP as they are.
#include "core/data/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <set>
#include <thread>

#include "core/autograd.h"
#include "core/data/augment.h"
#include "models/mlp.h"
#include "tests/tolerances.h"

namespace lowbit::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// n images of 2x3 pixels, one channel; image i has every pixel = i (mod 256) and label i % 10.
ImageDataset make_dataset(int64_t n) {
  ImageDataset d;
  d.count = n;
  d.height = 2;
  d.width = 3;
  d.channels = 1;
  for (int64_t i = 0; i < n; ++i) {
    for (int p = 0; p < 6; ++p) d.images.push_back(static_cast<uint8_t>(i % 256));
    d.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

// n images of h x w x c whose bytes all differ within an image: (i * 31 + pixel * 7 + 1) % 256.
ImageDataset make_rich_dataset(int64_t n, int64_t h, int64_t w, int64_t c) {
  ImageDataset d;
  d.count = n;
  d.height = h;
  d.width = w;
  d.channels = c;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < h * w * c; ++p) d.images.push_back(static_cast<uint8_t>((i * 31 + p * 7 + 1) % 256));
    d.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

// Every batch of one epoch.
std::vector<Batch> epoch_batches(DataLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

std::vector<int64_t> epoch_indices(DataLoader& loader, int64_t epoch) {
  std::vector<int64_t> all;
  for (const Batch& b : epoch_batches(loader, epoch)) all.insert(all.end(), b.indices.begin(), b.indices.end());
  return all;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

// The float a normalized byte must be: the same expression, so the comparison is exact.
float normalized(int v, float mean, float std) { return (static_cast<float>(v) / 255.f - mean) / std; }

TEST(ShuffledOrder, IsAPermutationFixedBySeedAndEpoch) {
  std::vector<int64_t> a = shuffled_order(1000, 5, 0);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(1000));
  EXPECT_NE(a, iota(1000));
  EXPECT_EQ(a, shuffled_order(1000, 5, 0));
  EXPECT_NE(a, shuffled_order(1000, 5, 1));
  EXPECT_NE(a, shuffled_order(1000, 6, 0));
  EXPECT_THAT(shuffled_order(1, 5, 0), ElementsAre(0));
  EXPECT_TRUE(shuffled_order(0, 5, 0).empty());
}

TEST(DataLoader, YieldsNormalizedNhwcImagesAndLabelsInFileOrder) {
  DataLoader loader(make_dataset(10), {.batch_size = 4, .shuffle = false, .mean = {0.5f}, .std = {0.25f}});
  EXPECT_EQ(loader.num_batches(), 3);
  Batch b;
  std::vector<int64_t> sizes;
  int64_t next_index = 0;
  while (loader.next(b)) {
    sizes.push_back(b.size());
    ASSERT_EQ(b.images.shape(), (Shape{b.size(), 2, 3, 1}));
    ASSERT_EQ(b.images.dtype(), DType::f32);
    ASSERT_EQ(b.labels.dtype(), DType::i32);
    std::vector<float> x = b.images.to_vector();
    std::vector<int32_t> y = b.labels.to_host<int32_t>();
    for (int64_t k = 0; k < b.size(); ++k, ++next_index) {
      EXPECT_EQ(b.indices[k], next_index);
      EXPECT_EQ(y[k], next_index % 10);
      for (int p = 0; p < 6; ++p) EXPECT_EQ(x[k * 6 + p], normalized(static_cast<int>(next_index), 0.5f, 0.25f));
    }
  }
  EXPECT_THAT(sizes, ElementsAre(4, 4, 2));
  EXPECT_FALSE(loader.next(b));
}

TEST(DataLoader, EveryExampleOncePerEpochInASeededOrder) {
  const int64_t n = 103;
  DataLoader loader(make_rich_dataset(n, 2, 2, 3), {.batch_size = 10, .seed = 7});
  EXPECT_EQ(loader.num_batches(), 11);
  std::vector<std::vector<int64_t>> orders;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<Batch> batches = epoch_batches(loader, epoch);
    ASSERT_EQ(batches.size(), 11u);
    EXPECT_EQ(batches.back().size(), 3);
    std::vector<int64_t> seen;
    for (const Batch& b : batches) {
      std::vector<int32_t> y = b.labels.to_host<int32_t>();
      for (int64_t k = 0; k < b.size(); ++k) EXPECT_EQ(y[k], b.indices[k] % 10);
      seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    }
    EXPECT_EQ(seen, shuffled_order(n, 7, epoch));
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, iota(n));
    orders.push_back(seen);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
  // Another loader with the same seed repeats them, in any epoch order; another seed does not.
  DataLoader same(make_rich_dataset(n, 2, 2, 3), {.batch_size = 25, .seed = 7});
  EXPECT_EQ(epoch_indices(same, 2), orders[2]);
  EXPECT_EQ(epoch_indices(same, 0), orders[0]);
  DataLoader other(make_rich_dataset(n, 2, 2, 3), {.batch_size = 10, .seed = 8});
  EXPECT_NE(epoch_indices(other, 0), orders[0]);
}

TEST(DataLoader, DropLast) {
  DataLoader loader(make_dataset(103), {.batch_size = 10, .drop_last = true, .seed = 3});
  EXPECT_EQ(loader.num_batches(), 10);
  std::vector<Batch> batches = epoch_batches(loader, 4);
  ASSERT_EQ(batches.size(), 10u);
  std::set<int64_t> seen;
  for (const Batch& b : batches) {
    EXPECT_EQ(b.size(), 10);
    seen.insert(b.indices.begin(), b.indices.end());
  }
  EXPECT_EQ(seen.size(), 100u);
  std::vector<int64_t> order = shuffled_order(103, 3, 4);
  EXPECT_EQ(std::vector<int64_t>(order.begin(), order.begin() + 100), epoch_indices(loader, 4));
  // A dataset smaller than one batch gives no batch at all.
  DataLoader tiny(make_dataset(3), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(tiny.num_batches(), 0);
  Batch b;
  EXPECT_FALSE(tiny.next(b));
}

TEST(DataLoader, LimitKeepsTheFirstExamples) {
  DataLoader loader(make_dataset(103), {.batch_size = 8, .seed = 1, .limit = 25});
  EXPECT_EQ(loader.num_examples(), 25);
  EXPECT_EQ(loader.num_batches(), 4);
  std::vector<int64_t> seen = epoch_indices(loader, 0);
  EXPECT_EQ(seen, shuffled_order(25, 1, 0));
  DataLoader all(make_dataset(10), {.limit = 50});
  EXPECT_EQ(all.num_examples(), 10);
}

TEST(DataLoader, PerChannelNormalizationIsExact) {
  const std::vector<float> mean = {0.1f, 0.2f, 0.3f}, std = {0.5f, 0.25f, 0.125f};
  ImageDataset d = make_rich_dataset(4, 3, 5, 3);
  DataLoader loader(d, {.batch_size = 4, .shuffle = false, .mean = mean, .std = std});
  Batch b;
  ASSERT_TRUE(loader.next(b));
  ASSERT_EQ(b.images.shape(), (Shape{4, 3, 5, 3}));
  std::vector<float> x = b.images.to_vector();
  ASSERT_EQ(x.size(), d.images.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t c = i % 3;
    ASSERT_EQ(x[i], normalized(d.images[i], mean[c], std[c])) << i;
  }
  // The table behind it: every byte value of every channel.
  std::vector<float> lut = normalization_table(mean, std, 3);
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) EXPECT_EQ(lut[c * 256 + v], normalized(v, mean[c], std[c]));
  // One value for all channels.
  std::vector<float> one = normalization_table({0.5f}, {2.f}, 3);
  EXPECT_EQ(one[2 * 256 + 255], normalized(255, 0.5f, 2.f));
}

TEST(DataLoader, RefusesBadOptions) {
  EXPECT_THROW(DataLoader(make_dataset(4), {.batch_size = 0}), Error);
  EXPECT_THROW(DataLoader(make_dataset(4), {.std = {0.f}}), Error);
  EXPECT_THROW(DataLoader(make_dataset(4), {.mean = {std::nanf("")}}), Error);
  EXPECT_THROW(DataLoader(make_dataset(0), {}), Error);
  EXPECT_THROW(DataLoader(make_dataset(4), {.limit = -1}), Error);
  EXPECT_THROW(DataLoader(make_dataset(4), {.crop_padding = -1}), Error);
  EXPECT_THROW(DataLoader(make_dataset(4), {.prefetch = -1}), Error);
  try {
    DataLoader(make_dataset(4), {.mean = {0.f, 0.f}, .std = {1.f, 1.f}});
    ADD_FAILURE() << "two means for one channel were accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("need 1 or 1 mean and std values, got 2 and 2"));
  }
  ImageDataset bad = make_dataset(4);
  bad.channels = 2;
  EXPECT_THROW(DataLoader(bad, {}), Error);
}

// Augmentation reference, written independently: build the zero-padded image, slice the window at
// (oy, ox), then mirror it if flip. Values are raw bytes (0 for padding).
std::vector<int> pad_crop_flip(const uint8_t* src, int64_t h, int64_t w, int64_t c, int64_t pad, int64_t oy,
                               int64_t ox, bool flip) {
  const int64_t ph = h + 2 * pad, pw = w + 2 * pad;
  std::vector<int> padded(static_cast<size_t>(ph * pw * c), 0);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) padded[((y + pad) * pw + x + pad) * c + k] = src[(y * w + x) * c + k];
  std::vector<int> window(static_cast<size_t>(h * w * c));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) window[(y * w + x) * c + k] = padded[((y + oy) * pw + x + ox) * c + k];
  if (!flip) return window;
  std::vector<int> mirrored(window.size());
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) mirrored[(y * w + x) * c + k] = window[(y * w + (w - 1 - x)) * c + k];
  return mirrored;
}

TEST(Augment, FlipReversesWidthAndCropShiftsInZeros) {
  // A 2x3 image with 2 channels: byte = 10 * (row * 3 + column) + channel + 1.
  const std::vector<uint8_t> img = {1, 2, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52};
  const std::vector<float> lut = normalization_table({0.f}, {1.f / 255.f}, 2);  // lut[v] ~ v
  auto run = [&](int64_t pad, AugmentChoice a) {
    std::vector<float> out(12);
    augment_image(img.data(), 2, 3, 2, pad, a, lut.data(), out.data());
    std::vector<int> bytes;
    for (float v : out) bytes.push_back(static_cast<int>(std::lround(v)));
    return bytes;
  };
  EXPECT_EQ(run(0, {}), std::vector<int>(img.begin(), img.end()));
  EXPECT_EQ(run(0, {.flip = true}), (std::vector<int>{21, 22, 11, 12, 1, 2, 51, 52, 41, 42, 31, 32}));
  EXPECT_EQ(run(2, {.oy = 2, .ox = 2}), std::vector<int>(img.begin(), img.end()));  // centred window
  // Window at the top-left corner of the 1-padded image: a zero row on top, a zero column on the left.
  EXPECT_EQ(run(1, {.oy = 0, .ox = 0}), (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 11, 12}));
  // Bottom-right corner, then mirrored: the zero column ends up on the left.
  EXPECT_EQ(run(1, {.oy = 2, .ox = 2, .flip = true}), (std::vector<int>{0, 0, 51, 52, 41, 42, 0, 0, 0, 0, 0, 0}));
  // Every offset and flip against the reference.
  for (int64_t oy = 0; oy <= 4; ++oy)
    for (int64_t ox = 0; ox <= 4; ++ox)
      for (bool flip : {false, true})
        EXPECT_EQ(run(2, {.oy = oy, .ox = ox, .flip = flip}), pad_crop_flip(img.data(), 2, 3, 2, 2, oy, ox, flip))
            << oy << " " << ox << " " << flip;
}

TEST(Augment, ChoicesArePureAndCoverTheirRange) {
  const int64_t pad = 4, n = 10000;
  std::set<int64_t> oys, oxs;
  int64_t flips = 0;
  for (int64_t i = 0; i < n; ++i) {
    AugmentChoice a = augment_choice(11, 3, i, pad, true);
    AugmentChoice again = augment_choice(11, 3, i, pad, true);
    ASSERT_EQ(a.oy, again.oy);
    ASSERT_EQ(a.ox, again.ox);
    ASSERT_EQ(a.flip, again.flip);
    ASSERT_GE(a.oy, 0);
    ASSERT_LE(a.oy, 2 * pad);
    ASSERT_GE(a.ox, 0);
    ASSERT_LE(a.ox, 2 * pad);
    oys.insert(a.oy);
    oxs.insert(a.ox);
    flips += a.flip;
  }
  EXPECT_EQ(oys.size(), 9u);
  EXPECT_EQ(oxs.size(), 9u);
  EXPECT_NEAR(static_cast<double>(flips) / n, 0.5, test::kCoinFractionAtol);
  // Another epoch or seed: other choices; disabled parts: the identity.
  int64_t differ = 0;
  for (int64_t i = 0; i < 100; ++i) {
    AugmentChoice a = augment_choice(11, 3, i, pad, true), b = augment_choice(11, 4, i, pad, true);
    AugmentChoice c = augment_choice(12, 3, i, pad, true);
    differ += (a.oy != b.oy || a.ox != b.ox) + (a.oy != c.oy || a.ox != c.ox);
    AugmentChoice off = augment_choice(11, 3, i, 0, false);
    EXPECT_EQ(off.oy, 0);
    EXPECT_EQ(off.ox, 0);
    EXPECT_FALSE(off.flip);
  }
  EXPECT_GT(differ, 150);
}

TEST(DataLoader, AugmentsEachExampleByItsOwnChoice) {
  const int64_t n = 40, h = 5, w = 4, c = 3, pad = 2;
  const float mean = 0.5f, std = 0.25f;
  ImageDataset d = make_rich_dataset(n, h, w, c);
  DataLoader loader(d, {.batch_size = 16, .seed = 9, .mean = {mean}, .std = {std}, .crop_padding = pad,
                        .horizontal_flip = true});
  int64_t flipped = 0, shifted = 0, padded_pixels = 0;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    for (const Batch& b : epoch_batches(loader, epoch)) {
      std::vector<float> x = b.images.to_vector();
      for (int64_t k = 0; k < b.size(); ++k) {
        const int64_t idx = b.indices[k];
        const AugmentChoice a = augment_choice(9, epoch, idx, pad, true);
        std::vector<int> want = pad_crop_flip(d.images.data() + idx * h * w * c, h, w, c, pad, a.oy, a.ox, a.flip);
        for (int64_t p = 0; p < h * w * c; ++p) ASSERT_EQ(x[k * h * w * c + p], normalized(want[p], mean, std));
        flipped += a.flip;
        shifted += a.oy != pad || a.ox != pad;
        // Padding is the raw byte 0 normalized, -mean/std (images here have no 0 byte of their own).
        for (int64_t p = 0; p < h * w * c; ++p) padded_pixels += x[k * h * w * c + p] == -mean / std;
      }
    }
  }
  EXPECT_GT(flipped, 0);
  EXPECT_GT(shifted, 0);
  EXPECT_GT(padded_pixels, 0);
}

TEST(DataLoader, PrefetchGivesTheSynchronousBatches) {
  ImageDataset d = make_rich_dataset(57, 6, 6, 3);
  LoaderOptions o{.batch_size = 8, .seed = 5, .mean = {0.4f, 0.5f, 0.6f}, .std = {0.2f, 0.3f, 0.4f},
                  .crop_padding = 2, .horizontal_flip = true, .prefetch = 0};
  DataLoader sync(d, o);
  for (int64_t prefetch : {1, 3, 100}) {
    o.prefetch = prefetch;
    DataLoader async(d, o);
    for (int64_t epoch : {0, 1, 5}) {
      std::vector<Batch> a = epoch_batches(sync, epoch), b = epoch_batches(async, epoch);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].indices, b[i].indices);
        EXPECT_EQ(a[i].images.to_vector(), b[i].images.to_vector());
        EXPECT_EQ(a[i].labels.to_host<int32_t>(), b[i].labels.to_host<int32_t>());
      }
    }
  }
}

TEST(DataLoader, BuildsBatchesOnAnotherThreadWhenPrefetching) {
  std::atomic<int> other_thread{0}, calls{0};
  const std::thread::id me = std::this_thread::get_id();
  auto spy = [&](Batch&) {
    ++calls;
    other_thread += std::this_thread::get_id() != me;
  };
  DataLoader loader(make_dataset(20), {.batch_size = 5, .prefetch = 2, .transform = spy});
  EXPECT_EQ(epoch_batches(loader, 0).size(), 4u);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(other_thread, 4);
  DataLoader sync(make_dataset(20), {.batch_size = 5, .prefetch = 0, .transform = spy});
  EXPECT_EQ(epoch_batches(sync, 0).size(), 4u);
  EXPECT_EQ(calls, 8);
  EXPECT_EQ(other_thread, 4);
}

TEST(DataLoader, StopsCleanlyMidEpoch) {
  // A slow transform keeps the worker busy (or waiting on a full queue) when the loader goes.
  auto slow = [](Batch&) { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t prefetch : {1, 4}) {
    {
      DataLoader loader(make_dataset(1000), {.batch_size = 10, .prefetch = prefetch, .transform = slow});
      Batch b;
      ASSERT_TRUE(loader.next(b));
      ASSERT_TRUE(loader.next(b));
    }  // destroyed with 98 batches to go
    {
      DataLoader never_started(make_dataset(1000), {.batch_size = 10, .prefetch = prefetch});
    }
    // Restarting mid-epoch replaces the worker and gives the whole new epoch.
    DataLoader loader(make_dataset(100), {.batch_size = 10, .seed = 2, .prefetch = prefetch, .transform = slow});
    Batch b;
    ASSERT_TRUE(loader.next(b));
    EXPECT_EQ(epoch_indices(loader, 1), shuffled_order(100, 2, 1));
  }
  // Nothing waited for the 98 remaining batches (about 0.2 s each time).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST(DataLoader, WorkerExceptionsSurfaceInNext) {
  for (int64_t prefetch : {0, 1, 3}) {
    int made = 0;  // touched by one thread at a time: the worker, or the caller without prefetch
    auto third_fails = [&made](Batch& b) {
      if (++made == 3) throw Error("bad batch of " + std::to_string(b.size()));
    };
    DataLoader loader(make_dataset(50), {.batch_size = 10, .prefetch = prefetch, .transform = third_fails});
    Batch b;
    ASSERT_TRUE(loader.next(b)) << prefetch;
    ASSERT_TRUE(loader.next(b)) << prefetch;
    try {
      loader.next(b);
      ADD_FAILURE() << "the worker's exception was lost (prefetch " << prefetch << ")";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("bad batch of 10"));
    }
    // The next epoch runs normally again.
    EXPECT_EQ(epoch_batches(loader, 1).size(), 5u) << prefetch;
  }
}

TEST(DataLoader, BatchesFeedAnMlpThroughItsFlatten) {
  ImageDataset d = make_rich_dataset(12, 4, 4, 3);
  DataLoader loader(d, {.batch_size = 5});
  Generator gen(0);
  std::shared_ptr<Module> mlp = make_mlp(4 * 4 * 3, {8}, 10, gen);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  NoGradGuard no_grad;
  EXPECT_EQ((*mlp)(b.images).shape(), (Shape{5, 10}));
}

}  // namespace
}  // namespace lowbit::data
