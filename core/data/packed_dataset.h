// Packed image datasets: the folder `lowbit pack-dataset` writes (pack.h), read as an ImageSource.
//   DIR/manifest.json        {"format": "lowbit-packed-images", "version": 1, "size": S,
//                             "channels": 3, "classes": [...], "splits": {"train": {"count": N,
//                             "shards": [{"file", "count", "bytes", "index_crc"}, ...]}, "val": ...}}
//   DIR/train-00000.lbshard  shard files (shard_file.h), then val-00000.lbshard, ...
// The manifest is written last, so a folder whose packing did not finish has none. Opening a split
// checks every shard against the manifest (size, count, index checksum) and refuses a mismatch.
// open_image_split() reads either kind of dataset root: a packed folder (it has manifest.json) or
// an image folder (ROOT/train, ROOT/val).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/data/image_source.h"
#include "core/data/shard_file.h"
#include "core/export.h"

namespace lowbit::data {

inline constexpr const char* kPackedManifest = "manifest.json";
inline constexpr const char* kPackedFormat = "lowbit-packed-images";

// Whether DIR holds a manifest.json.
LOWBIT_API bool is_packed_dataset(const std::string& dir);

class LOWBIT_API ShardSource : public ImageSource {
 public:
  // The train or val split of the packed folder `dir`; throws "packed dataset DIR: ..." for a bad
  // or mismatched manifest, "corrupt shard ..." for a damaged shard.
  ShardSource(const std::string& dir, bool train);
  int64_t size() const override { return starts_.back(); }
  const std::vector<std::string>& classes() const override { return classes_; }
  int32_t label(int64_t i) const override;
  std::string name(int64_t i) const override;
  Image load(int64_t i) const override;
  std::string description() const override { return description_; }
  int64_t packed_size() const { return packed_size_; }  // the manifest's "size" (0: not resized)

 private:
  std::pair<size_t, int64_t> locate(int64_t i) const;  // (shard, record)

  std::string description_;
  std::vector<std::string> classes_;
  std::vector<std::unique_ptr<ShardFile>> shards_;
  std::vector<int64_t> starts_;  // first example of each shard, then the total
  int64_t packed_size_ = 0;
};

// A packed split if `root` holds manifest.json, else the image folder ROOT/train or ROOT/val.
LOWBIT_API std::unique_ptr<ImageSource> open_image_split(const std::string& root, bool train);

}  // namespace lowbit::data
