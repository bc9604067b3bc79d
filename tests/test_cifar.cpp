// Tests for the CIFAR-10 binary reader (core/data/cifar.h) on small generated plain and gzip
// batch files: the CHW -> NHWC transpose, split assembly, and every kind of bad file. The real
// data set is checked by SlowCifar10 only when $LOWBIT_CIFAR10_DIR names it.
#include "core/data/cifar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "tests/file_util.h"
#include "tests/tolerances.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using test::Bytes;
using test::error_of;
using test::read_bytes;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The pixel byte of record r (counted over the whole split), channel c, row y, column x.
uint8_t pixel(int64_t r, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>(r * 37 + c * 101 + y * 7 + x * 3);
}

// `n` records starting at split record `first`, with labels (first + i) % 10.
Bytes make_records(int64_t first, int64_t n) {
  Bytes b;
  for (int64_t r = first; r < first + n; ++r) {
    b.push_back(static_cast<uint8_t>(r % 10));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) b.push_back(pixel(r, c, y, x));
  }
  return b;
}

class CifarTest : public ::testing::Test {
 protected:
  // A complete folder: train batches of 2, 3, 1, 2, 2 records (odd ones gzip), a test batch of 3.
  void put_all() {
    const int64_t sizes[5] = {2, 3, 1, 2, 2};
    int64_t first = 0;
    for (int i = 0; i < 5; ++i) {
      dir_.put("data_batch_" + std::to_string(i + 1) + (i % 2 ? ".bin" : ".bin.gz"), make_records(first, sizes[i]));
      first += sizes[i];
    }
    dir_.put("test_batch.bin", make_records(100, 3));
  }
  test::TempDir dir_{"cifar"};
};

// Every byte of ds equals the generator's, in NHWC order, for split records first..first+count-1.
void expect_records(const ImageDataset& ds, int64_t first, int64_t count) {
  ASSERT_EQ(ds.count, count);
  EXPECT_EQ(ds.height, 32);
  EXPECT_EQ(ds.width, 32);
  EXPECT_EQ(ds.channels, 3);
  ASSERT_EQ(ds.images.size(), static_cast<size_t>(count * 3072));
  ASSERT_EQ(ds.labels.size(), static_cast<size_t>(count));
  int64_t bad = 0;
  for (int64_t r = 0; r < count; ++r) {
    EXPECT_EQ(ds.labels[r], (first + r) % 10);
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        for (int64_t c = 0; c < 3; ++c)
          bad += ds.images[static_cast<size_t>(((r * 32 + y) * 32 + x) * 3 + c)] != pixel(first + r, c, y, x);
  }
  EXPECT_EQ(bad, 0);
}

TEST_F(CifarTest, ReadsRecordsAsNhwc) {
  expect_records(read_cifar10_file(dir_.put("a.bin", make_records(0, 4))), 0, 4);
  // A hand-checked pixel: record 0, row 1, column 2 has R, G, B at bytes 1 + {0, 1024, 2048} + 34.
  Bytes one = make_records(0, 1);
  one[1 + 34] = 11;
  one[1 + 1024 + 34] = 22;
  one[1 + 2048 + 34] = 33;
  ImageDataset ds = read_cifar10_file(dir_.put("one.bin", one));
  EXPECT_EQ(ds.images[(1 * 32 + 2) * 3 + 0], 11);
  EXPECT_EQ(ds.images[(1 * 32 + 2) * 3 + 1], 22);
  EXPECT_EQ(ds.images[(1 * 32 + 2) * 3 + 2], 33);
}

TEST_F(CifarTest, PlainAndGzipAgree) {
  ImageDataset plain = read_cifar10_file(dir_.put("b.bin", make_records(5, 3)));
  ImageDataset gz = read_cifar10_file(dir_.put("b.bin.gz", make_records(5, 3)));
  EXPECT_EQ(plain.images, gz.images);
  EXPECT_EQ(plain.labels, gz.labels);
  expect_records(gz, 5, 3);
}

TEST_F(CifarTest, LoadsSplitsInBatchOrder) {
  put_all();
  expect_records(load_cifar10_split(dir_.path().string(), true), 0, 10);
  expect_records(load_cifar10_split(dir_.path().string(), false), 100, 3);
}

TEST_F(CifarTest, MissingFileListsTheNamesTried) {
  put_all();
  fs::remove(dir_.path() / "data_batch_4.bin");
  const std::string p = dir_.file("data_batch_4.bin");
  EXPECT_THAT(error_of([&] { load_cifar10_split(dir_.path().string(), true); }),
              AllOf(HasSubstr("CIFAR-10 train file not found"), HasSubstr(p), HasSubstr(p + ".gz")));
  EXPECT_NO_THROW(load_cifar10_split(dir_.path().string(), false));
  fs::remove(dir_.path() / "test_batch.bin");
  EXPECT_THAT(error_of([&] { load_cifar10_split(dir_.path().string(), false); }),
              AllOf(HasSubstr("test file not found"), HasSubstr(dir_.file("test_batch.bin.gz"))));
  const std::string nowhere = dir_.file("nowhere");
  EXPECT_THAT(error_of([&] { load_cifar10_split(nowhere, false); }), HasSubstr(nowhere));
}

TEST_F(CifarTest, RefusesTruncatedFiles) {
  Bytes two = make_records(0, 2);
  Bytes cut(two.begin(), two.end() - 5);
  for (const char* name : {"cut.bin", "cut.bin.gz"}) {
    std::string p = dir_.put(name, cut);
    EXPECT_THAT(error_of([&] { read_cifar10_file(p); }),
                AllOf(HasSubstr(p), HasSubstr("truncated: 6141 bytes is not a whole number of 3073-byte records")));
  }
  std::string empty = dir_.put("empty.bin", {});
  EXPECT_THAT(error_of([&] { read_cifar10_file(empty); }), AllOf(HasSubstr(empty), HasSubstr("empty")));
  // Through the split loader, the message still names the file.
  put_all();
  std::string p = dir_.put("data_batch_3.bin.gz", cut);
  EXPECT_THAT(error_of([&] { load_cifar10_split(dir_.path().string(), true); }),
              AllOf(HasSubstr(p), HasSubstr("truncated")));
}

TEST_F(CifarTest, RefusesLabelsAboveNine) {
  Bytes three = make_records(0, 3);
  three[2 * 3073] = 10;  // record 2's label
  std::string p = dir_.put("label.bin", three);
  EXPECT_THAT(error_of([&] { read_cifar10_file(p); }), AllOf(HasSubstr(p), HasSubstr("record 2 has label 10")));
  three[2 * 3073] = 9;
  EXPECT_NO_THROW(read_cifar10_file(dir_.put("label9.bin", three)));
}

TEST_F(CifarTest, RefusesUnreadableGzip) {
  std::string gz = dir_.put("z.bin.gz", make_records(0, 4));
  Bytes raw = read_bytes(gz);
  std::string half = dir_.put("half.bin.gz.raw", Bytes(raw.begin(), raw.begin() + raw.size() / 2));
  EXPECT_THAT(error_of([&] { read_cifar10_file(half); }), AllOf(HasSubstr(half), HasSubstr("corrupt gzip data")));
  Bytes flipped = raw;
  for (size_t i = 12; i + 8 < flipped.size(); i += 5) flipped[i] ^= 0x5A;
  std::string bad = dir_.put("flipped.bin.gz.raw", flipped);
  EXPECT_THAT(error_of([&] { read_cifar10_file(bad); }), AllOf(HasSubstr(bad), HasSubstr("corrupt gzip data")));
}

TEST(CifarDefaultDir, OnlyFromTheEnvironment) {
  const char* old = std::getenv("LOWBIT_CIFAR10_DIR");
  const std::string saved = old ? old : "";
  setenv("LOWBIT_CIFAR10_DIR", "/some/cifar", 1);
  EXPECT_EQ(default_cifar10_dir(), "/some/cifar");
  unsetenv("LOWBIT_CIFAR10_DIR");
  EXPECT_EQ(default_cifar10_dir(), "");
  if (old) setenv("LOWBIT_CIFAR10_DIR", saved.c_str(), 1);
}

// The real files, when $LOWBIT_CIFAR10_DIR names them: sizes, balanced classes, and the
// training set's per-channel means over [0, 1] as published (so R, G, B are not mixed up).
TEST(SlowCifar10, LoadsTheRealSplits) {
  const std::string dir = default_cifar10_dir();
  if (dir.empty()) GTEST_SKIP() << "set LOWBIT_CIFAR10_DIR to the CIFAR-10 binary folder to run this test";
  ImageDataset train = load_cifar10_split(dir, true);
  ImageDataset test = load_cifar10_split(dir, false);
  EXPECT_EQ(train.count, 50000);
  EXPECT_EQ(test.count, 10000);
  std::vector<int64_t> train_per_class(10), test_per_class(10);
  for (uint8_t l : train.labels) train_per_class.at(l)++;
  for (uint8_t l : test.labels) test_per_class.at(l)++;
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(train_per_class[c], 5000);
    EXPECT_EQ(test_per_class[c], 1000);
  }
  double sum[3] = {0, 0, 0};
  for (size_t i = 0; i < train.images.size(); ++i) sum[i % 3] += train.images[i];
  const double want[3] = {0.49140, 0.48216, 0.44653};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(sum[c] / (50000.0 * 1024 * 255), want[c], test::kDatasetStatAtol) << c;
}

}  // namespace
}  // namespace lowbit::data
