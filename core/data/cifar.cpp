// CIFAR-10 binary reader: record parsing with the CHW -> HWC transpose, and split assembly.
#include "core/data/cifar.h"

#include <cstdlib>
#include <filesystem>

#include "core/data/idx.h"
#include "core/error.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;

// dir/stem.bin, else dir/stem.bin.gz; throws listing both when neither is a file.
std::string find_batch_file(const std::string& dir, const std::string& stem, bool train) {
  std::string tried;
  for (const char* suffix : {".bin", ".bin.gz"}) {
    std::string p = (fs::path(dir) / (stem + suffix)).string();
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
    tried += (tried.empty() ? "" : ", ") + p;
  }
  LOWBIT_FAIL("CIFAR-10 ", train ? "train" : "test", " file not found in ", dir, ": tried ", tried);
}

}  // namespace

ImageDataset read_cifar10_file(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_maybe_gzip(path);
  const auto size = static_cast<int64_t>(bytes.size());
  LOWBIT_CHECK(size > 0, path, ": empty file (no records)");
  LOWBIT_CHECK(size % kCifarRecordBytes == 0, path, ": truncated: ", size, " bytes is not a whole number of ",
               kCifarRecordBytes, "-byte records");
  constexpr int64_t plane = kCifarSide * kCifarSide;
  ImageDataset ds;
  ds.count = size / kCifarRecordBytes;
  ds.height = ds.width = kCifarSide;
  ds.channels = kCifarChannels;
  ds.images.resize(static_cast<size_t>(ds.count * ds.image_size()));
  ds.labels.resize(static_cast<size_t>(ds.count));
  for (int64_t r = 0; r < ds.count; ++r) {
    const uint8_t* rec = bytes.data() + r * kCifarRecordBytes;
    LOWBIT_CHECK(rec[0] <= 9, path, ": record ", r, " has label ", int(rec[0]), " (expected 0..9)");
    ds.labels[static_cast<size_t>(r)] = rec[0];
    const uint8_t* chw = rec + 1;
    uint8_t* hwc = ds.images.data() + r * ds.image_size();
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < kCifarChannels; ++c) hwc[p * kCifarChannels + c] = chw[c * plane + p];
  }
  return ds;
}

ImageDataset load_cifar10_split(const std::string& dir, bool train) {
  std::vector<std::string> stems;
  if (train) {
    for (int i = 1; i <= 5; ++i) stems.push_back("data_batch_" + std::to_string(i));
  } else {
    stems.push_back("test_batch");
  }
  std::vector<std::string> paths;  // all located before any is read, so a missing one fails fast
  for (const auto& s : stems) paths.push_back(find_batch_file(dir, s, train));

  ImageDataset all;
  all.height = all.width = kCifarSide;
  all.channels = kCifarChannels;
  for (const auto& p : paths) {
    ImageDataset part = read_cifar10_file(p);
    all.count += part.count;
    all.images.insert(all.images.end(), part.images.begin(), part.images.end());
    all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
  }
  return all;
}

std::string default_cifar10_dir() {
  const char* env = std::getenv("LOWBIT_CIFAR10_DIR");
  return env && *env ? env : "";
}

}  // namespace lowbit::data
