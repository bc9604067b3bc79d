// ImageSource: random access to the examples of one split of an image dataset, each a decoded
// 8-bit RGB image and a class index. The image-folder reader (image_folder.h) and the packed
// shards (shard.h) implement it; ImageLoader (image_loader.h) batches any of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/image_decode.h"

namespace lowbit::data {

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual int64_t size() const = 0;
  // Class names; labels are indices into this list.
  virtual const std::vector<std::string>& classes() const = 0;
  virtual int32_t label(int64_t i) const = 0;
  // What example i is, for messages (a file path, or a shard file and record).
  virtual std::string name(int64_t i) const = 0;
  // Example i's image. Thread-safe. Throws lowbit::Error starting with name(i) when it cannot be
  // read or decoded.
  virtual Image load(int64_t i) const = 0;
  // The whole split, for messages ("image folder ROOT/train").
  virtual std::string description() const = 0;
};

}  // namespace lowbit::data
