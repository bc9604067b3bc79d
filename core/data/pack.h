// pack_dataset: turns an image folder (ROOT/train, ROOT/val, as image_folder.h reads them) into a
// packed dataset (packed_dataset.h) for faster epochs: every image decoded once, resized so its
// shorter side is `size` (torchvision's Resize(size), resample.h; 0 keeps the decoded size) and
// stored raw in shard files of at most `images_per_shard` images, in the folder's order, with the
// labels and checksums. Decoding runs on `threads` threads. The manifest goes last (after the old
// one is removed first), so an interrupted packing leaves no folder that looks complete.
// Images that cannot be decoded are reported by path through `report` and left out (skip_bad), or
// stop the packing with the error (!skip_bad).
// With size equal to the evaluation's resize (256), Resize + CenterCrop on the packed images gives
// the folder's evaluation batches exactly; RandomResizedCrop then crops the resized image instead
// of the original (the usual pre-resized ImageNet).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/export.h"

namespace lowbit::data {

struct PackOptions {
  int64_t size = 256;                                        // shorter side of the stored images (0: as decoded)
  int64_t images_per_shard = 1024;                           // about 200 MB per shard at size 256
  int64_t threads = 0;                                       // 0: every core
  bool skip_bad = true;                                      // false: the first bad image stops the packing
  std::function<void(const std::string&)> report = nullptr;  // one line per skipped image (default: stderr)
};

struct PackedSplit {
  std::string name;  // train or val
  int64_t images = 0, shards = 0;
  uint64_t bytes = 0;
  std::vector<std::string> skipped;  // the messages of the images left out
};

// Packs ROOT's train and val splits (those that exist; at least one must) into out_dir (created if
// needed). Both splits must have the same classes. Throws lowbit::Error naming the problem.
LOWBIT_API std::vector<PackedSplit> pack_dataset(const std::string& root, const std::string& out_dir,
                                                 const PackOptions& options = {});

}  // namespace lowbit::data
