// Tests for the IDX reader (core/data/idx.h) on small generated plain and gzip files.
#include "core/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "tests/file_util.h"

namespace fs = std::filesystem;
using lowbit::data::IdxArray;
using lowbit::data::ImageDataset;
using lowbit::test::Bytes;
using lowbit::test::error_of;
using lowbit::test::read_bytes;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

// Encodes an unsigned-byte IDX file: magic, big-endian dims, then data.
Bytes make_idx(const std::vector<uint32_t>& dims, const Bytes& data, uint8_t type = 0x08) {
  Bytes b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes iota_bytes(size_t n, int start = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + i);
  return b;
}

class IdxTest : public ::testing::Test {
 protected:
  // Writes a consistent images/labels pair of n 2x3 images under the given stems.
  void put_split(const std::string& prefix, int n, const std::string& suffix) {
    dir_.put(prefix + "-images-idx3-ubyte" + suffix, make_idx({uint32_t(n), 2, 3}, iota_bytes(n * 6)));
    Bytes labels(n);
    for (int i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
    dir_.put(prefix + "-labels-idx1-ubyte" + suffix, make_idx({uint32_t(n)}, labels));
  }
  lowbit::test::TempDir dir_{"idx"};
};

TEST_F(IdxTest, ParsesDimsAndBytes) {
  std::string p = dir_.put("a.idx", make_idx({2, 3, 4}, iota_bytes(24)));
  IdxArray a = lowbit::data::read_idx(p);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.data, iota_bytes(24));

  std::string q = dir_.put("b.idx", make_idx({5}, iota_bytes(5, 7)));
  IdxArray b = lowbit::data::read_idx(q);
  EXPECT_EQ(b.dims, (std::vector<int64_t>{5}));
  EXPECT_EQ(b.data, iota_bytes(5, 7));
}

TEST_F(IdxTest, PlainAndGzipAgree) {
  Bytes file = make_idx({3, 100, 7}, iota_bytes(2100, 3));
  std::string plain = dir_.put("x.idx", file);
  std::string gz = dir_.put("x.idx.gz", file);
  EXPECT_NE(read_bytes(gz), file);  // really compressed
  EXPECT_EQ(lowbit::data::read_file_maybe_gzip(gz), file);
  EXPECT_EQ(lowbit::data::read_file_maybe_gzip(plain), file);
  IdxArray a = lowbit::data::read_idx(plain), b = lowbit::data::read_idx(gz);
  EXPECT_EQ(a.dims, b.dims);
  EXPECT_EQ(a.data, b.data);
}

TEST_F(IdxTest, MissingFile) {
  std::string p = dir_.file("nope.idx");
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("cannot open")));
  EXPECT_THAT(error_of([&] { lowbit::data::read_file_maybe_gzip(dir_.path().string()); }),
              AllOf(HasSubstr(dir_.path().string()), HasSubstr("cannot open")));
}

TEST_F(IdxTest, RefusesBadHeaders) {
  Bytes bad_magic = make_idx({2}, {1, 2});
  bad_magic[0] = 1;
  std::string p = dir_.put("magic.idx", bad_magic);
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("magic")));

  p = dir_.put("type.idx", make_idx({2}, Bytes(8), 0x0D));
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("unsupported"), HasSubstr("0x0D")));

  p = dir_.put("zero.idx", Bytes{0, 0, 8, 0});
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("0 dimensions")));

  p = dir_.put("five.idx", make_idx({1, 1, 1, 1, 1}, {9}));
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("5 dimensions")));

  p = dir_.put("short.idx", Bytes{0, 0, 8, 2, 0, 0, 0, 1});
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("truncated IDX header")));
}

TEST_F(IdxTest, RefusesTruncatedAndTrailingData) {
  Bytes file = make_idx({2, 3, 4}, iota_bytes(24));
  Bytes cut(file.begin(), file.end() - 4);
  std::string p = dir_.put("cut.idx", cut);
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("expected 24 bytes of data, found 20")));

  Bytes extra = file;
  extra.push_back(0xAB);
  p = dir_.put("extra.idx.gz", extra);
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(p); }),
              AllOf(HasSubstr(p), HasSubstr("trailing")));
}

TEST_F(IdxTest, RefusesTruncatedAndCorruptGzip) {
  Bytes file = make_idx({4, 50, 50}, iota_bytes(10000));
  std::string gz = dir_.put("t.idx.gz", file);
  Bytes raw = read_bytes(gz);

  std::string half = dir_.put("half.idx", Bytes(raw.begin(), raw.begin() + raw.size() / 2));
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(half); }),
              AllOf(HasSubstr(half), HasSubstr("corrupt gzip data")));

  Bytes flipped = raw;
  for (size_t i = 12; i < flipped.size() - 8; i += 5) flipped[i] ^= 0x5A;
  std::string bad = dir_.put("flipped.idx", flipped);
  EXPECT_THAT(error_of([&] { lowbit::data::read_idx(bad); }),
              AllOf(HasSubstr(bad), HasSubstr("corrupt gzip data")));
}

TEST_F(IdxTest, LoadsDataset) {
  put_split("train", 5, "");
  ImageDataset ds = lowbit::data::load_idx_dataset(dir_.file("train-images-idx3-ubyte"),
                                                   dir_.file("train-labels-idx1-ubyte"));
  EXPECT_EQ(ds.count, 5);
  EXPECT_EQ(ds.height, 2);
  EXPECT_EQ(ds.width, 3);
  EXPECT_EQ(ds.channels, 1);
  EXPECT_EQ(ds.images, iota_bytes(30));
  EXPECT_EQ(ds.labels, (Bytes{0, 1, 2, 3, 4}));
}

TEST_F(IdxTest, DatasetErrors) {
  std::string img = dir_.put("img", make_idx({3, 2, 2}, Bytes(12)));
  std::string lab4 = dir_.put("lab4", make_idx({4}, Bytes(4)));
  EXPECT_THAT(error_of([&] { lowbit::data::load_idx_dataset(img, lab4); }),
              AllOf(HasSubstr(img), HasSubstr(lab4), HasSubstr("3 images"), HasSubstr("4 labels")));

  std::string bad = dir_.put("bad", make_idx({3}, Bytes{1, 9, 12}));
  EXPECT_THAT(error_of([&] { lowbit::data::load_idx_dataset(img, bad); }),
              AllOf(HasSubstr(bad), HasSubstr("label 12 at index 2"), HasSubstr("out of range")));
  EXPECT_NO_THROW(lowbit::data::load_idx_dataset(img, bad, 13));
  EXPECT_THAT(error_of([&] { lowbit::data::load_idx_dataset(img, bad, 9); }),
              HasSubstr("label 9 at index 1"));

  std::string flat = dir_.put("flat", make_idx({3, 4}, Bytes(12)));
  EXPECT_THAT(error_of([&] { lowbit::data::load_idx_dataset(flat, bad, 20); }),
              AllOf(HasSubstr(flat), HasSubstr("3-d")));
  EXPECT_THAT(error_of([&] { lowbit::data::load_idx_dataset(img, img); }),
              AllOf(HasSubstr(img), HasSubstr("1-d")));
}

TEST_F(IdxTest, LoadMnistSplitFindsPlainAndGz) {
  put_split("train", 6, "");
  put_split("t10k", 4, ".gz");
  ImageDataset train = lowbit::data::load_mnist_split(dir_.path().string(), true);
  ImageDataset test = lowbit::data::load_mnist_split(dir_.path().string(), false);
  EXPECT_EQ(train.count, 6);
  EXPECT_EQ(test.count, 4);
  EXPECT_EQ(test.images, iota_bytes(24));

  fs::path empty = dir_.path() / "empty";
  fs::create_directories(empty);
  EXPECT_THAT(error_of([&] { lowbit::data::load_mnist_split(empty.string(), false); }),
              AllOf(HasSubstr("not found"), HasSubstr((empty / "t10k-images-idx3-ubyte").string()),
                    HasSubstr((empty / "t10k-images-idx3-ubyte.gz").string())));
}

TEST(IdxDefaultDir, HonoursEnvironment) {
  const char* old = std::getenv("LOWBIT_FASHION_MNIST_DIR");
  std::string saved = old ? old : "";
  setenv("LOWBIT_FASHION_MNIST_DIR", "/some/where", 1);
  EXPECT_EQ(lowbit::data::default_fashion_mnist_dir(), "/some/where");
  unsetenv("LOWBIT_FASHION_MNIST_DIR");
  EXPECT_EQ(lowbit::data::default_fashion_mnist_dir(), "/usr/share/datasets/fashion-mnist");
  if (old) setenv("LOWBIT_FASHION_MNIST_DIR", saved.c_str(), 1);
}

TEST(IdxFashionMnist, LoadsDebianTestSplit) {
  fs::path dir = lowbit::data::default_fashion_mnist_dir();
  std::error_code ec;
  if (!fs::exists(dir / "t10k-images-idx3-ubyte.gz", ec) &&
      !fs::exists(dir / "t10k-images-idx3-ubyte", ec))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir;
  ImageDataset ds = lowbit::data::load_mnist_split(dir.string(), false);
  EXPECT_EQ(ds.count, 10000);
  EXPECT_EQ(ds.height, 28);
  EXPECT_EQ(ds.width, 28);
  EXPECT_EQ(ds.channels, 1);
  EXPECT_EQ(ds.images.size(), 10000u * 28 * 28);
  ASSERT_EQ(ds.labels.size(), 10000u);
  std::vector<int> per_class(10);
  for (uint8_t l : ds.labels) per_class.at(l)++;
  for (int c : per_class) EXPECT_EQ(c, 1000);  // the test split is balanced
}

}  // namespace
