// Tests for the streaming ImageLoader (core/data/image_loader.h) over generated PNG folders:
// evaluation and training batches are the transformed images normalized exactly as the in-memory
// loader's table; batches are a pure function of (seed, epoch, index) whatever the thread count,
// prefetching or batch size; shuffling, limit; bad images reported by path and skipped once, or
// refused; and normalize_images on CPU and CUDA (bit-identical; CUDA instances skip without a GPU).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/data/augment.h"
#include "core/data/image_folder.h"
#include "core/data/image_loader.h"
#include "core/data/loader.h"
#include "core/data/normalize.h"
#include "core/data/presets.h"
#include "core/error.h"
#include "tests/file_util.h"
#include "tests/image_files.h"
#include "tests/test_util.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<float> kMean = {0.485f, 0.456f, 0.406f}, kStd = {0.229f, 0.224f, 0.225f};

class ImageLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PNG();
    images_ = test::write_png_split(dir_.path(), "train", {"emu", "cat", "dog"}, 5, 20, 24, 1);
  }
  std::shared_ptr<const ImageSource> source() const {
    return std::make_shared<FolderSource>(scan_image_folder(dir_.file("train")));
  }
  static ImageLoaderOptions eval_options() {
    ImageLoaderOptions o;
    o.batch_size = 4;
    o.shuffle = false;
    o.mean = kMean;
    o.std = kStd;
    o.transform.size = 12;
    o.transform.resize = 14;
    o.threads = 2;
    return o;
  }
  static ImageLoaderOptions train_options() {
    ImageLoaderOptions o = eval_options();
    o.shuffle = true;
    o.seed = 5;
    o.transform.kind = ImageTransform::Kind::random_resized_crop;
    o.transform.flip = true;
    return o;
  }
  // Example `index` as the loader must give it: decoded, cropped, normalized by the table.
  std::vector<float> expected(int64_t index, const ImageLoaderOptions& o, int64_t epoch) const {
    const Image& img = images_[static_cast<size_t>(index)].image;
    const int64_t s = o.transform.size;
    std::vector<uint8_t> u8(static_cast<size_t>(s * s * 3));
    apply_crop(img, choose_crop(o.transform, o.seed, epoch, index, img.height, img.width), u8.data());
    const std::vector<float> lut = normalization_table(o.mean, o.std, 3);
    std::vector<float> out(u8.size());
    for (size_t i = 0; i < u8.size(); ++i) out[i] = lut[(i % 3) * 256 + u8[i]];
    return out;
  }
  // Every batch of an epoch.
  static std::vector<Batch> epoch(BatchSource& loader, int64_t e) {
    loader.start_epoch(e);
    std::vector<Batch> out;
    for (Batch b; loader.next(b);) out.push_back(b);
    return out;
  }
  // Each example's image of an epoch, by index.
  static std::map<int64_t, std::vector<float>> by_index(BatchSource& loader, int64_t e) {
    std::map<int64_t, std::vector<float>> m;
    for (const Batch& b : epoch(loader, e)) {
      const std::vector<float> x = b.images.to_vector();
      const auto per = static_cast<size_t>(x.size() / static_cast<size_t>(b.size()));
      for (size_t k = 0; k < b.indices.size(); ++k)
        m[b.indices[k]] =
            std::vector<float>(x.begin() + static_cast<long>(k * per), x.begin() + static_cast<long>((k + 1) * per));
    }
    return m;
  }

  test::TempDir dir_{"image_loader"};
  std::vector<test::FolderImage> images_;
};

TEST_F(ImageLoaderTest, EvaluationBatchesAreTheCroppedImagesNormalized) {
  const ImageLoaderOptions o = eval_options();
  ImageLoader loader(source(), o);
  EXPECT_EQ(loader.num_examples(), 15);
  EXPECT_EQ(loader.num_batches(), 4);
  EXPECT_EQ(loader.num_classes(), 3);
  EXPECT_THAT(loader.source().classes(), ElementsAre("cat", "dog", "emu"));
  const std::vector<Batch> batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 4u);
  int64_t next = 0;
  for (const Batch& b : batches) {
    EXPECT_EQ(b.images.shape(), (Shape{b.size(), 12, 12, 3}));
    EXPECT_EQ(b.images.dtype(), DType::f32);
    const std::vector<float> x = b.images.to_vector();
    const std::vector<int32_t> y = b.labels.to_host<int32_t>();
    for (int64_t k = 0; k < b.size(); ++k, ++next) {
      ASSERT_EQ(b.indices[static_cast<size_t>(k)], next);
      EXPECT_EQ(y[static_cast<size_t>(k)], images_[static_cast<size_t>(next)].label);
      const std::vector<float> want = expected(next, o, 0);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), x.begin() + k * 12 * 12 * 3)) << "example " << next;
    }
  }
  EXPECT_EQ(next, 15);
}

TEST_F(ImageLoaderTest, TrainingBatchesArePureFunctionsOfSeedEpochAndIndex) {
  const ImageLoaderOptions o = train_options();
  ImageLoader loader(source(), o);
  const auto e0 = by_index(loader, 0), e1 = by_index(loader, 1);
  ASSERT_EQ(e0.size(), 15u);
  for (int64_t i = 0; i < 15; ++i) {
    EXPECT_EQ(e0.at(i), expected(i, o, 0)) << i;
    EXPECT_EQ(e1.at(i), expected(i, o, 1)) << i;
  }
  int differ = 0;
  for (int64_t i = 0; i < 15; ++i) differ += e0.at(i) != e1.at(i);
  EXPECT_GE(differ, 12);  // a new epoch draws new crops
  // The same with other thread counts, without prefetching and with another batch size.
  for (auto [threads, prefetch, batch] : std::vector<std::array<int64_t, 3>>{{1, 0, 4}, {3, 2, 4}, {2, 1, 7}}) {
    ImageLoaderOptions p = o;
    p.threads = threads;
    p.prefetch = prefetch;
    p.batch_size = batch;
    ImageLoader other(source(), p);
    EXPECT_EQ(by_index(other, 1), e1) << threads << " threads, prefetch " << prefetch << ", batch " << batch;
  }
}

TEST_F(ImageLoaderTest, ShufflesEveryExampleOncePerEpochInTheSeededOrder) {
  ImageLoader loader(source(), train_options());
  std::vector<int64_t> seen;
  for (const Batch& b : epoch(loader, 2)) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  EXPECT_EQ(seen, shuffled_order(15, 5, 2));  // the in-memory loader's permutation
}

TEST_F(ImageLoaderTest, LimitSpreadsTheExamplesOverTheSplit) {
  ImageLoaderOptions o = eval_options();
  o.limit = 5;
  ImageLoader loader(source(), o);
  EXPECT_EQ(loader.num_examples(), 5);
  std::vector<int64_t> seen;
  for (const Batch& b : epoch(loader, 0)) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  EXPECT_THAT(seen, ElementsAre(0, 3, 6, 9, 12));  // every class keeps examples
  o.limit = 100;
  EXPECT_EQ(ImageLoader(source(), o).num_examples(), 15);
}

TEST_F(ImageLoaderTest, BadImagesAreReportedOnceAndSkipped) {
  const std::string bad = images_[6].path;  // dog/img1.png
  test::write_bytes(bad, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3});
  std::vector<std::string> reports;
  ImageLoaderOptions o = eval_options();
  o.report = [&](const std::string& line) { reports.push_back(line); };
  ImageLoader loader(source(), o);
  for (int64_t e = 0; e < 2; ++e) {
    int64_t total = 0;
    for (const Batch& b : epoch(loader, e)) {
      total += b.size();
      EXPECT_EQ(b.images.size(0), b.size());
      for (int64_t idx : b.indices) EXPECT_NE(idx, 6);
      if (std::find(b.indices.begin(), b.indices.end(), 5) != b.indices.end()) {  // the batch 4..7 lost one
        EXPECT_EQ(b.size(), 3);
        EXPECT_THAT(b.indices, ElementsAre(4, 5, 7));
        EXPECT_THAT(b.labels.to_host<int32_t>(), ElementsAre(0, 1, 1));  // cat/img4, dog/img0, dog/img2
        const std::vector<float> x = b.images.to_vector();
        const std::vector<float> want = expected(7, o, e);
        EXPECT_TRUE(std::equal(want.begin(), want.end(), x.begin() + 2 * 12 * 12 * 3));
      }
    }
    EXPECT_EQ(total, 14);
  }
  ASSERT_EQ(reports.size(), 1u);  // once, not once per epoch
  EXPECT_THAT(reports[0], AllOf(HasSubstr("skipped"), HasSubstr(bad), HasSubstr("corrupt PNG")));
  ASSERT_EQ(loader.skipped().size(), 1u);
  EXPECT_THAT(loader.skipped()[0], HasSubstr(bad));
}

TEST_F(ImageLoaderTest, ABatchOfOnlyBadImagesIsPassedOver) {
  for (int k = 4; k < 8; ++k) test::write_bytes(images_[static_cast<size_t>(k)].path, {'x'});
  ImageLoaderOptions o = eval_options();
  o.report = [](const std::string&) {};
  ImageLoader loader(source(), o);
  const std::vector<Batch> batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].indices.front(), 8);
  EXPECT_EQ(loader.skipped().size(), 4u);
}

TEST_F(ImageLoaderTest, BadImagesAreRefusedWhenAsked) {
  test::write_bytes(images_[9].path, {1, 2, 3});
  for (int64_t prefetch : {0, 2}) {
    ImageLoaderOptions o = eval_options();
    o.skip_bad = false;
    o.prefetch = prefetch;
    ImageLoader loader(source(), o);
    EXPECT_THAT(error_of([&] { epoch(loader, 0); }), AllOf(HasSubstr(images_[9].path), HasSubstr("not a JPEG or PNG")));
  }
}

TEST_F(ImageLoaderTest, RefusesBadOptions) {
  ImageLoaderOptions o = eval_options();
  o.batch_size = 0;
  EXPECT_THAT(error_of([&] { ImageLoader(source(), o); }), HasSubstr("batch_size"));
  o = eval_options();
  o.transform.resize = 5;
  EXPECT_THAT(error_of([&] { ImageLoader(source(), o); }), HasSubstr("resize"));
  o = eval_options();
  o.std = {0.f};
  EXPECT_THAT(error_of([&] { ImageLoader(source(), o); }), HasSubstr("std"));
  o = eval_options();
  o.threads = -1;
  EXPECT_THAT(error_of([&] { ImageLoader(source(), o); }), HasSubstr("threads"));
}

TEST_F(ImageLoaderTest, ImagenetPresetOpensAFolderWithItsTransforms) {
  test::write_png_split(dir_.path(), "val", {"emu", "cat", "dog"}, 2, 20, 24, 2);
  const DatasetPreset& p = find_dataset("imagenet");
  EXPECT_TRUE(p.streaming);
  EXPECT_THAT(p.mean, ElementsAre(0.485f, 0.456f, 0.406f));
  EXPECT_THAT(p.std, ElementsAre(0.229f, 0.224f, 0.225f));
  const ImageLoaderOptions train = p.image_loader_options(true), val = p.image_loader_options(false);
  EXPECT_TRUE(train.shuffle);
  EXPECT_EQ(train.transform.kind, ImageTransform::Kind::random_resized_crop);
  EXPECT_EQ(train.transform.size, 224);
  EXPECT_TRUE(train.transform.flip);
  EXPECT_FALSE(val.shuffle);
  EXPECT_EQ(val.transform.kind, ImageTransform::Kind::resize_center_crop);
  EXPECT_EQ(val.transform.resize, 256);
  EXPECT_EQ(val.transform.size, 224);
  auto loader = p.open_split(dir_.path().string(), false, val);
  EXPECT_EQ(loader->num_examples(), 6);
  Batch b;
  ASSERT_TRUE(loader->next(b));
  EXPECT_EQ(b.images.shape(), (Shape{6, 224, 224, 3}));
  EXPECT_THAT(error_of([&] { p.load_split(dir_.path().string(), true); }), HasSubstr("streamed"));
}

// normalize_images and the loader on each device: CUDA gives the CPU's bits.
class ImageNormalizeTest : public test::DeviceTest {};

TEST_P(ImageNormalizeTest, MatchesTheTableBitForBit) {
  std::vector<uint8_t> v(2 * 5 * 7 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 97 + 13) % 256);
  const Tensor x = Tensor::from_vector(v, {2, 5, 7, 3}, device());
  const std::vector<float> got = normalize_images(x, kMean, kStd).to_vector();
  const std::vector<float> lut = normalization_table(kMean, kStd, 3);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(got[i], lut[(i % 3) * 256 + v[i]]) << i;
  const std::vector<float> one = normalize_images(x, {0.5f}, {0.25f}).to_vector();
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(one[i], (float(v[i]) / 255.f - 0.5f) / 0.25f) << i;
  EXPECT_THROW(normalize_images(Tensor::zeros({2, 3}, DType::f32, device()), kMean, kStd), Error);
  EXPECT_THROW(normalize_images(x, {0.f, 0.f}, {1.f, 1.f}), Error);
}

// Pictures held in memory (no codec needed, so the device test runs in builds without libpng).
class PictureSource : public ImageSource {
 public:
  explicit PictureSource(int64_t n) {
    for (int64_t i = 0; i < n; ++i) images_.push_back(test::test_picture(18 + i % 3, 21 + i % 5, 3, 40 + i));
  }
  int64_t size() const override { return static_cast<int64_t>(images_.size()); }
  const std::vector<std::string>& classes() const override { return classes_; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 2); }
  std::string name(int64_t i) const override { return "picture " + std::to_string(i); }
  Image load(int64_t i) const override { return images_[static_cast<size_t>(i)]; }
  std::string description() const override { return "pictures"; }

 private:
  std::vector<Image> images_;
  std::vector<std::string> classes_ = {"a", "b"};
};

TEST_P(ImageNormalizeTest, LoaderBatchesOnTheDeviceEqualTheCpuBatches) {
  auto src = std::make_shared<PictureSource>(10);
  ImageLoaderOptions o;
  o.batch_size = 3;
  o.seed = 9;
  o.mean = kMean;
  o.std = kStd;
  o.transform.kind = ImageTransform::Kind::random_resized_crop;
  o.transform.size = 10;
  o.transform.flip = true;
  ImageLoader cpu(src, o);
  o.device = device();
  ImageLoader dev(src, o);
  for (int64_t e = 0; e < 2; ++e) {
    cpu.start_epoch(e);
    dev.start_epoch(e);
    Batch a, b;
    while (cpu.next(a)) {
      ASSERT_TRUE(dev.next(b));
      EXPECT_EQ(b.images.device(), device());
      EXPECT_EQ(b.labels.device(), device());
      EXPECT_EQ(a.indices, b.indices);
      EXPECT_EQ(a.images.to_vector(), b.images.to_vector());
      EXPECT_EQ(a.labels.to_host<int32_t>(), b.labels.to_host<int32_t>());
    }
    EXPECT_FALSE(dev.next(b));
  }
}

LOWBIT_INSTANTIATE_DEVICES(ImageNormalizeTest);

}  // namespace
}  // namespace lowbit::data
