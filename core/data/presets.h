// Named datasets: image shape, class count, where the files live, how to read them, the
// normalization (mean/std of the training split's [0, 1] pixels, per channel) and the training
// augmentation. `lowbit train --dataset NAME` goes through find_dataset(NAME).
//   fashion-mnist  1x28x28, IDX files; folder: $LOWBIT_FASHION_MNIST_DIR or Debian's
//                  dataset-fashion-mnist location; mean 0.2860, std 0.3530; no augmentation.
//   cifar10        3x32x32, binary batches; folder: $LOWBIT_CIFAR10_DIR, else it must be given;
//                  the EWGS code's normalization mean (0.4914, 0.4822, 0.4465), std (0.2023,
//                  0.1994, 0.2010); training augmentation: random crop 32 with padding 4 and
//                  horizontal flip.
//   imagenet       3x224x224, an image folder (ROOT/train/<class>/*.JPEG, ROOT/val/<class>/...,
//                  torchvision's ImageFolder layout, any number of classes) or a folder packed by
//                  `lowbit pack-dataset`; folder: $LOWBIT_IMAGENET_DIR, else it must be given;
//                  streamed (ImageLoader, image_loader.h), not loaded: open_split() instead of
//                  load_split(). ImageNet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225);
//                  training RandomResizedCrop 224 + flip, evaluation Resize 256 + CenterCrop 224
//                  (spec §2.5).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/image_loader.h"
#include "core/data/image_transform.h"
#include "core/data/loader.h"
#include "core/export.h"

namespace lowbit::data {

struct LOWBIT_API DatasetPreset {
  std::string name;
  int64_t channels = 1, num_classes = 10;
  int64_t height = 0, width = 0;  // the usual image size (not enforced: the files' own size counts)
  std::vector<float> mean, std;  // per channel
  int64_t train_crop_padding = 0;  // random crop padding for training batches (0: none)
  bool train_flip = false;         // random horizontal flip for training batches
  std::string dir_env;             // environment variable that names the folder
  std::string (*default_dir)() = nullptr;  // the folder used when none is given ("" if none)
  ImageDataset (*load)(const std::string& dir, bool train) = nullptr;  // in-memory datasets
  // Streamed image datasets (load is null): the training and evaluation transforms.
  bool streaming = false;
  ImageTransform train_transform, eval_transform;

  // `given` if not empty, else the default folder; throws when neither exists.
  std::string resolve_dir(const std::string& given) const;
  // Loads the train or test split (the reader checks the files and labels) and checks its
  // channel count against the preset.
  ImageDataset load_split(const std::string& dir, bool train) const;
  // Normalization; for training also shuffling and the augmentation. The caller sets the rest
  // (batch size, seed, device, ...).
  LoaderOptions loader_options(bool train) const;
  // Streamed datasets: shuffling (training), normalization and the split's transform; and the
  // loader over the split of an image folder or packed folder (packed_dataset.h).
  ImageLoaderOptions image_loader_options(bool train) const;
  std::unique_ptr<ImageLoader> open_split(const std::string& dir, bool train, const ImageLoaderOptions& options) const;
};

// Throws naming the known datasets when `name` is not one of them.
LOWBIT_API const DatasetPreset& find_dataset(const std::string& name);
LOWBIT_API std::vector<std::string> dataset_names();

}  // namespace lowbit::data
