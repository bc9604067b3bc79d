// Tests for the named dataset presets (core/data/presets.h): their settings, the unknown-name
// error, folder resolution, loading a generated CIFAR-10 folder; and SlowFashionMnistPreset, which
// runs a whole training epoch of the real Fashion-MNIST through the preset's loader (skipped when
// the files are absent).
#include "core/data/presets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/data/idx.h"
#include "core/error.h"
#include "tests/file_util.h"
#include "tests/tolerances.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Sets an environment variable for the scope, restoring the previous value (or its absence).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST(DatasetPresets, Cifar10) {
  const DatasetPreset& p = find_dataset("cifar10");
  EXPECT_EQ(p.channels, 3);
  EXPECT_EQ(p.height, 32);
  EXPECT_EQ(p.width, 32);
  EXPECT_EQ(p.num_classes, 10);
  EXPECT_THAT(p.mean, ElementsAre(0.4914f, 0.4822f, 0.4465f));
  EXPECT_THAT(p.std, ElementsAre(0.2023f, 0.1994f, 0.2010f));
  LoaderOptions train = p.loader_options(true), test = p.loader_options(false);
  EXPECT_TRUE(train.shuffle);
  EXPECT_EQ(train.crop_padding, 4);
  EXPECT_TRUE(train.horizontal_flip);
  EXPECT_EQ(train.mean, p.mean);
  EXPECT_EQ(train.std, p.std);
  EXPECT_FALSE(test.shuffle);
  EXPECT_EQ(test.crop_padding, 0);
  EXPECT_FALSE(test.horizontal_flip);
  EXPECT_EQ(test.mean, p.mean);
}

TEST(DatasetPresets, FashionMnist) {
  const DatasetPreset& p = find_dataset("fashion-mnist");
  EXPECT_EQ(p.channels, 1);
  EXPECT_EQ(p.height, 28);
  EXPECT_EQ(p.width, 28);
  EXPECT_THAT(p.mean, ElementsAre(0.2860f));
  EXPECT_THAT(p.std, ElementsAre(0.3530f));
  LoaderOptions train = p.loader_options(true);
  EXPECT_TRUE(train.shuffle);
  EXPECT_EQ(train.crop_padding, 0);
  EXPECT_FALSE(train.horizontal_flip);
  ScopedEnv env("LOWBIT_FASHION_MNIST_DIR", nullptr);
  EXPECT_EQ(p.resolve_dir(""), default_fashion_mnist_dir());
}

TEST(DatasetPresets, UnknownNameListsTheKnownOnes) {
  EXPECT_THAT(dataset_names(), ElementsAre("fashion-mnist", "cifar10", "imagenet"));
  try {
    find_dataset("mnist");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown dataset 'mnist' (known: fashion-mnist, cifar10, imagenet)"));
  }
}

TEST(DatasetPresets, Cifar10FolderMustBeGiven) {
  const DatasetPreset& p = find_dataset("cifar10");
  {
    ScopedEnv env("LOWBIT_CIFAR10_DIR", nullptr);
    EXPECT_EQ(p.resolve_dir("/given"), "/given");
    try {
      p.resolve_dir("");
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), AllOf(HasSubstr("cifar10"), HasSubstr("--data-dir"), HasSubstr("LOWBIT_CIFAR10_DIR")));
    }
  }
  ScopedEnv env("LOWBIT_CIFAR10_DIR", "/from/env");
  EXPECT_EQ(p.resolve_dir(""), "/from/env");
  EXPECT_EQ(p.resolve_dir("/given"), "/given");
}

TEST(DatasetPresets, LoadsAGeneratedCifarFolder) {
  test::TempDir tmp("presets_cifar");
  const fs::path& dir = tmp.path();
  auto write = [&](const std::string& name, int records) {
    test::Bytes b;
    for (int r = 0; r < records; ++r) {
      b.push_back(static_cast<uint8_t>(r % 10));
      for (int i = 0; i < 3072; ++i) b.push_back(static_cast<uint8_t>(i % 251));
    }
    tmp.put(name, b);
  };
  for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", 2);
  write("test_batch.bin", 3);
  const DatasetPreset& p = find_dataset("cifar10");
  ImageDataset train = p.load_split(dir.string(), true);
  EXPECT_EQ(train.count, 10);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(p.load_split(dir.string(), false).count, 3);
  // Through the preset's training loader: augmented NHWC batches.
  LoaderOptions o = p.loader_options(true);
  o.batch_size = 4;
  DataLoader loader(std::move(train), o);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.images.shape(), (Shape{4, 32, 32, 3}));
}

// The real Fashion-MNIST through the preset: both splits load, a training epoch with the preset's
// loader visits all 60,000 images, and the normalized pixels have mean ~0 and std ~1 (so the
// preset's mean/std are the training set's).
TEST(SlowFashionMnistPreset, LoadsAndNormalizesTheRealData) {
  const DatasetPreset& p = find_dataset("fashion-mnist");
  const fs::path dir = p.resolve_dir("");
  if (!fs::exists(dir / "train-images-idx3-ubyte.gz") && !fs::exists(dir / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir
                 << " (install dataset-fashion-mnist or set LOWBIT_FASHION_MNIST_DIR)";
  EXPECT_EQ(p.load_split(dir.string(), false).count, 10000);
  LoaderOptions o = p.loader_options(true);
  o.batch_size = 256;
  DataLoader loader(p.load_split(dir.string(), true), o);
  EXPECT_EQ(loader.num_examples(), 60000);
  loader.start_epoch(0);
  Batch b;
  double sum = 0, sum_sq = 0;
  int64_t seen = 0, values = 0;
  while (loader.next(b)) {
    ASSERT_EQ(b.images.shape(), (Shape{b.size(), 28, 28, 1}));
    for (float v : b.images.to_vector()) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    seen += b.size();
    values += b.images.numel();
  }
  EXPECT_EQ(seen, 60000);
  const double mean = sum / values, stddev = std::sqrt(sum_sq / values - mean * mean);
  EXPECT_NEAR(mean, 0.0, test::kDatasetStatAtol);
  EXPECT_NEAR(stddev, 1.0, test::kDatasetStatAtol);
}

}  // namespace
}  // namespace lowbit::data
