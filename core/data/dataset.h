// ImageDataset: a whole split held in memory as NHWC u8 images [count, height, width, channels]
// with one u8 label per image. The readers (idx.h, cifar.h) fill it; the DataLoader consumes it.
#pragma once

#include <cstdint>
#include <vector>

namespace lowbit::data {

struct ImageDataset {
  int64_t count = 0, height = 0, width = 0, channels = 0;
  std::vector<uint8_t> images;  // count*height*width*channels bytes, NHWC (channel fastest)
  std::vector<uint8_t> labels;  // count

  int64_t image_size() const { return height * width * channels; }  // bytes per image
};

}  // namespace lowbit::data
