// Tests for packed image datasets (core/data/pack.h, packed_dataset.h, shard_file.h): a packing
// round trip keeps the decoded pixels (size 0) or stores Resize(size) of them, over several shards,
// with the manifest last; evaluation batches from a pack at the evaluation's resize equal the
// folder's exactly; bad images are skipped (listed) or stop the packing without a manifest; and
// damaged shards or manifests are refused with clear errors (record checksums when read).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/data/image_folder.h"
#include "core/data/image_loader.h"
#include "core/data/image_transform.h"
#include "core/data/pack.h"
#include "core/data/packed_dataset.h"
#include "core/data/resample.h"
#include "core/data/shard_file.h"
#include "core/error.h"
#include "tests/file_util.h"
#include "tests/image_files.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PNG();
    train_ = test::write_png_split(root(), "train", {"cat", "dog", "emu"}, 4, 18, 22, 1);
    val_ = test::write_png_split(root(), "val", {"cat", "dog", "emu"}, 2, 18, 22, 2);
  }
  fs::path root() const { return dir_.path() / "folder"; }
  std::string out() const { return (dir_.path() / "packed").string(); }
  static PackOptions options(int64_t size) {
    PackOptions o;
    o.size = size;
    o.images_per_shard = 5;
    o.threads = 2;
    o.report = [](const std::string&) {};
    return o;
  }
  std::string shard(const std::string& name) const { return (fs::path(out()) / name).string(); }

  test::TempDir dir_{"pack"};
  std::vector<test::FolderImage> train_, val_;
};

TEST_F(PackTest, RoundTripKeepsTheDecodedImages) {
  const std::vector<PackedSplit> r = pack_dataset(root().string(), out(), options(0));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "train");
  EXPECT_EQ(r[0].images, 12);
  EXPECT_EQ(r[0].shards, 3);  // 5 + 5 + 2
  EXPECT_TRUE(r[0].skipped.empty());
  EXPECT_EQ(r[1].name, "val");
  EXPECT_EQ(r[1].images, 6);
  EXPECT_EQ(r[1].shards, 2);
  EXPECT_TRUE(is_packed_dataset(out()));
  for (bool train : {true, false}) {
    const std::vector<test::FolderImage>& want = train ? train_ : val_;
    ShardSource src(out(), train);
    EXPECT_THAT(src.classes(), ElementsAre("cat", "dog", "emu"));
    EXPECT_EQ(src.packed_size(), 0);
    ASSERT_EQ(src.size(), static_cast<int64_t>(want.size()));
    for (int64_t i = 0; i < src.size(); ++i) {
      const Image img = src.load(i);
      EXPECT_EQ(src.label(i), want[static_cast<size_t>(i)].label);
      EXPECT_EQ(img.height, want[static_cast<size_t>(i)].image.height);
      EXPECT_EQ(img.width, want[static_cast<size_t>(i)].image.width);
      EXPECT_EQ(img.pixels, want[static_cast<size_t>(i)].image.pixels) << i;
    }
    EXPECT_THAT(src.name(train ? 6 : 5),
                HasSubstr(train ? "train-00001.lbshard record 1" : "val-00001.lbshard record 0"));
  }
  EXPECT_THAT(error_of([&] { pack_dataset(out(), dir_.file("again"), options(0)); }), HasSubstr("already a packed"));
}

TEST_F(PackTest, StoresResizeOfEveryImage) {
  pack_dataset(root().string(), out(), options(9));
  ShardSource src(out(), true);
  EXPECT_EQ(src.packed_size(), 9);
  for (int64_t i = 0; i < src.size(); ++i) {
    const Image& orig = train_[static_cast<size_t>(i)].image;
    const auto [h, w] = resized_size(orig.height, orig.width, 9);
    std::vector<uint8_t> want(static_cast<size_t>(h * w * 3));
    resize_bilinear(orig.pixels.data(), orig.height, orig.width, 3, {0, 0, orig.height, orig.width}, h, w, {0, 0, h, w},
                    want.data());
    const Image got = src.load(i);
    EXPECT_EQ(got.height, h);
    EXPECT_EQ(got.width, w);
    EXPECT_EQ(got.pixels, want) << i;
  }
}

TEST_F(PackTest, EvaluationBatchesFromThePackEqualTheFolders) {
  pack_dataset(root().string(), out(), options(14));
  ImageLoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.mean = {0.5f};
  o.std = {0.25f};
  o.transform.size = 12;
  o.transform.resize = 14;  // = the packed size: Resize(14) of a packed image is the identity
  ImageLoader packed(std::make_shared<ShardSource>(out(), false), o);
  ImageLoader folder(std::make_shared<FolderSource>(scan_image_folder(image_folder_split(root().string(), false))), o);
  Batch a, b;
  int batches = 0;
  while (folder.next(a)) {
    ASSERT_TRUE(packed.next(b));
    EXPECT_EQ(a.indices, b.indices);
    EXPECT_EQ(a.labels.to_host<int32_t>(), b.labels.to_host<int32_t>());
    EXPECT_EQ(a.images.to_vector(), b.images.to_vector());
    ++batches;
  }
  EXPECT_EQ(batches, 2);
  EXPECT_FALSE(packed.next(b));
}

TEST_F(PackTest, OpenImageSplitReadsEitherKind) {
  EXPECT_EQ(open_image_split(root().string(), true)->size(), 12);
  EXPECT_THAT(open_image_split(root().string(), false)->description(), HasSubstr("image folder"));
  pack_dataset(root().string(), out(), options(0));
  EXPECT_THAT(open_image_split(out(), false)->description(), HasSubstr("packed dataset"));
  EXPECT_EQ(open_image_split(out(), false)->size(), 6);
}

TEST_F(PackTest, BadImagesAreSkippedOrStopThePacking) {
  test::write_bytes(train_[5].path, {1, 2, 3});
  std::vector<std::string> reports;
  PackOptions o = options(0);
  o.report = [&](const std::string& line) { reports.push_back(line); };
  const std::vector<PackedSplit> r = pack_dataset(root().string(), out(), o);
  EXPECT_EQ(r[0].images, 11);
  ASSERT_EQ(r[0].skipped.size(), 1u);
  EXPECT_THAT(r[0].skipped[0], HasSubstr(train_[5].path));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], AllOf(HasSubstr("skipped"), HasSubstr(train_[5].path)));
  ShardSource src(out(), true);
  ASSERT_EQ(src.size(), 11);
  EXPECT_EQ(src.load(5).pixels, train_[6].image.pixels);  // the next image took its place
  // Refused: the error names the file and the old manifest is gone, so the folder is no dataset.
  o.skip_bad = false;
  EXPECT_THAT(error_of([&] { pack_dataset(root().string(), out(), o); }), HasSubstr(train_[5].path));
  EXPECT_FALSE(is_packed_dataset(out()));
}

TEST_F(PackTest, RefusesMissingOrMismatchedSplits) {
  EXPECT_THAT(error_of([&] { pack_dataset(dir_.file("nothing"), out(), options(0)); }),
              HasSubstr("neither a train nor a val folder"));
  test::write_png_split(root(), "val", {"fox"}, 1, 10, 10, 3);
  EXPECT_THAT(error_of([&] { pack_dataset(root().string(), out(), options(0)); }), HasSubstr("classes that differ"));
}

// Flips one byte of a file.
void flip_byte(const std::string& path, int64_t offset_from_end_or_start, bool from_end = false) {
  test::Bytes b = test::read_bytes(path);
  const size_t at = from_end ? b.size() - static_cast<size_t>(offset_from_end_or_start)
                             : static_cast<size_t>(offset_from_end_or_start);
  b[at] ^= 0x40;
  test::write_bytes(path, b);
}

TEST_F(PackTest, CorruptRecordsFailTheirChecksumWhenRead) {
  pack_dataset(root().string(), out(), options(0));
  flip_byte(shard("train-00000.lbshard"), 16 + 30);  // inside record 0's pixels
  ShardSource src(out(), true);                      // the structure is intact
  EXPECT_THAT(error_of([&] { src.load(0); }),
              AllOf(HasSubstr("train-00000.lbshard record 0"), HasSubstr("checksum mismatch")));
  EXPECT_EQ(src.load(1).pixels, train_[1].image.pixels);
  std::vector<std::string> reports;
  ImageLoaderOptions o;
  o.transform.size = 8;
  o.transform.resize = 8;
  o.shuffle = false;
  o.batch_size = 20;
  o.report = [&](const std::string& line) { reports.push_back(line); };
  ImageLoader loader(std::make_shared<ShardSource>(out(), true), o);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.size(), 11);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], HasSubstr("checksum mismatch"));
}

TEST_F(PackTest, DamagedShardsAreRefused) {
  pack_dataset(root().string(), out(), options(0));
  const std::string s0 = shard("train-00000.lbshard"), s1 = shard("train-00001.lbshard");
  const test::Bytes good = test::read_bytes(s0);
  auto refused = [&](const std::string& what) {
    EXPECT_THAT(error_of([&] { ShardSource(out(), true); }),
                AllOf(HasSubstr("corrupt shard"), HasSubstr(s0), HasSubstr(what)));
    test::write_bytes(s0, good);
  };
  flip_byte(s0, 32 + 5, true);  // the last index entry
  refused("index checksum mismatch");
  flip_byte(s0, 30, true);  // the footer's count
  refused("footer checksum mismatch");
  flip_byte(s0, 0);
  refused("bad magic");
  test::write_bytes(s0, test::Bytes(good.begin(), good.end() - 7));
  refused("no end marker");
  test::write_bytes(s0, test::Bytes(good.begin(), good.begin() + 20));
  refused("truncated");
  fs::copy_file(s1, s0, fs::copy_options::overwrite_existing);  // a valid shard, but not this one
  refused("does not match");
  fs::remove(s0);
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), AllOf(HasSubstr(s0), HasSubstr("cannot open")));
}

TEST_F(PackTest, BadManifestsAreRefused) {
  pack_dataset(root().string(), out(), options(0));
  const std::string manifest = shard("manifest.json");
  nlohmann::json m = nlohmann::json::parse(std::ifstream(manifest));
  auto write = [&](const std::string& text) { std::ofstream(manifest) << text; };
  write("{not json");
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), HasSubstr("not valid JSON"));
  write(R"({"format": "something else"})");
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), HasSubstr("not a lowbit packed-dataset manifest"));
  nlohmann::json no_val = m;
  no_val["splits"].erase("val");
  write(no_val.dump());
  EXPECT_THAT(error_of([&] { ShardSource(out(), false); }), HasSubstr("has no val split"));
  nlohmann::json wrong_count = m;
  wrong_count["splits"]["train"]["count"] = 13;
  write(wrong_count.dump());
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), HasSubstr("the manifest says 13"));
  nlohmann::json few_classes = m;
  few_classes["classes"] = {"cat"};
  write(few_classes.dump());
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), AllOf(HasSubstr("has label"), HasSubstr("1 classes")));
  nlohmann::json missing = m;
  missing["splits"]["train"]["shards"][0].erase("bytes");
  write(missing.dump());
  EXPECT_THAT(error_of([&] { ShardSource(out(), true); }), HasSubstr("malformed manifest.json"));
}

TEST(ShardFile, WritesAndReadsRecordsOfAnySize) {
  test::TempDir dir("shard_file");
  std::vector<Image> images = {test::test_picture(1, 1, 3, 1), test::test_picture(7, 3, 3, 2),
                               test::test_picture(2, 9, 3, 3)};
  size_t next = 0;
  const ShardSummary s = write_shard(dir.file("x.lbshard"), 3, [&](Image& img, int32_t& label) {
    if (next == images.size()) return false;
    img = images[next];
    label = static_cast<int32_t>(next * 10);
    ++next;
    return true;
  });
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.bytes, fs::file_size(dir.file("x.lbshard")));
  ShardFile f(dir.file("x.lbshard"));
  ASSERT_EQ(f.size(), 3);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(f.entry(i).label, i * 10);
    EXPECT_EQ(f.read(i).pixels, images[static_cast<size_t>(i)].pixels);
    EXPECT_EQ(f.read(i).height, images[static_cast<size_t>(i)].height);
  }
  EXPECT_THAT(error_of([&] { f.read(3); }), HasSubstr("out of range"));
  // An empty shard is valid; a record of the wrong channel count is refused and nothing is written.
  EXPECT_EQ(write_shard(dir.file("empty.lbshard"), 3, [](Image&, int32_t&) { return false; }).count, 0);
  EXPECT_EQ(ShardFile(dir.file("empty.lbshard")).size(), 0);
  EXPECT_THAT(error_of([&] {
                write_shard(dir.file("bad.lbshard"), 3, [&](Image& img, int32_t& label) {
                  img = test::test_picture(2, 2, 1, 1);
                  label = 0;
                  return true;
                });
              }),
              HasSubstr("is not a 3-channel image"));
  EXPECT_FALSE(fs::exists(dir.file("bad.lbshard")));
}

}  // namespace
}  // namespace lowbit::data
