// The dataset presets table and its helpers.
#include "core/data/presets.h"

#include <cstdlib>

#include "core/data/cifar.h"
#include "core/data/idx.h"
#include "core/data/packed_dataset.h"
#include "core/error.h"

namespace lowbit::data {
namespace {

// $LOWBIT_IMAGENET_DIR, else "" (no standard location).
std::string default_imagenet_dir() {
  const char* env = std::getenv("LOWBIT_IMAGENET_DIR");
  return env && *env ? env : "";
}

const std::vector<DatasetPreset>& presets() {
  static const std::vector<DatasetPreset> table = [] {
    std::vector<DatasetPreset> t;
    DatasetPreset fm;
    fm.name = "fashion-mnist";
    fm.channels = 1;
    fm.height = fm.width = 28;
    fm.mean = {0.2860f};
    fm.std = {0.3530f};
    fm.dir_env = "LOWBIT_FASHION_MNIST_DIR";
    fm.default_dir = &default_fashion_mnist_dir;
    fm.load = &load_mnist_split;
    t.push_back(fm);

    DatasetPreset cifar;
    cifar.name = "cifar10";
    cifar.channels = 3;
    cifar.height = cifar.width = 32;
    cifar.mean = {0.4914f, 0.4822f, 0.4465f};
    cifar.std = {0.2023f, 0.1994f, 0.2010f};
    cifar.train_crop_padding = 4;
    cifar.train_flip = true;
    cifar.dir_env = "LOWBIT_CIFAR10_DIR";
    cifar.default_dir = &default_cifar10_dir;
    cifar.load = &load_cifar10_split;
    t.push_back(cifar);

    DatasetPreset imagenet;
    imagenet.name = "imagenet";
    imagenet.channels = 3;
    imagenet.num_classes = 1000;  // nominal: the folder's class count is used
    imagenet.height = imagenet.width = 224;
    imagenet.mean = {0.485f, 0.456f, 0.406f};
    imagenet.std = {0.229f, 0.224f, 0.225f};
    imagenet.train_flip = true;
    imagenet.dir_env = "LOWBIT_IMAGENET_DIR";
    imagenet.default_dir = &default_imagenet_dir;
    imagenet.streaming = true;
    imagenet.train_transform.kind = ImageTransform::Kind::random_resized_crop;
    imagenet.train_transform.size = 224;
    imagenet.train_transform.flip = true;
    imagenet.eval_transform.kind = ImageTransform::Kind::resize_center_crop;
    imagenet.eval_transform.size = 224;
    imagenet.eval_transform.resize = 256;
    t.push_back(imagenet);
    return t;
  }();
  return table;
}

}  // namespace

std::string DatasetPreset::resolve_dir(const std::string& given) const {
  if (!given.empty()) return given;
  std::string dir = default_dir ? default_dir() : "";
  LOWBIT_CHECK(!dir.empty(), "dataset ", name, " has no default folder: pass --data-dir or set ", dir_env);
  return dir;
}

ImageDataset DatasetPreset::load_split(const std::string& dir, bool train) const {
  LOWBIT_CHECK(load != nullptr, "dataset ", name, " is streamed: open it with open_split");
  ImageDataset ds = load(dir, train);
  LOWBIT_CHECK(ds.channels == channels, "dataset ", name, " expects ", channels, "-channel images, but the ",
               train ? "train" : "test", " split in ", dir, " has ", ds.channels);
  return ds;
}

LoaderOptions DatasetPreset::loader_options(bool train) const {
  LoaderOptions o;
  o.shuffle = train;
  o.mean = mean;
  o.std = std;
  o.crop_padding = train ? train_crop_padding : 0;
  o.horizontal_flip = train && train_flip;
  return o;
}

ImageLoaderOptions DatasetPreset::image_loader_options(bool train) const {
  ImageLoaderOptions o;
  o.shuffle = train;
  o.mean = mean;
  o.std = std;
  o.transform = train ? train_transform : eval_transform;
  return o;
}

std::unique_ptr<ImageLoader> DatasetPreset::open_split(const std::string& dir, bool train,
                                                       const ImageLoaderOptions& options) const {
  LOWBIT_CHECK(streaming, "dataset ", name, " is loaded into memory: use load_split");
  return std::make_unique<ImageLoader>(open_image_split(dir, train), options);
}

const DatasetPreset& find_dataset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p;
  std::string known;
  for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  LOWBIT_FAIL("unknown dataset '", name, "' (known: ", known, ")");
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

}  // namespace lowbit::data
