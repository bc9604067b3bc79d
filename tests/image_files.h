// Test helpers for image-folder tests: deterministic test pictures, small generated image folders
// (ROOT/train/<class>/*.png, ROOT/val/...) written with the library's encoders
// (core/data/image_encode.h), and skips for builds without libpng or libjpeg.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/image_decode.h"
#include "core/data/image_encode.h"
#include "tests/file_util.h"

namespace lowbit::test {

#define SKIP_WITHOUT_PNG() \
  if (!::lowbit::data::png_supported()) GTEST_SKIP() << "built without libpng"
#define SKIP_WITHOUT_JPEG() \
  if (!::lowbit::data::jpeg_supported()) GTEST_SKIP() << "built without libjpeg"

// A deterministic h x w picture with `channels` channels: a ramp per channel (along x, y, or both)
// plus, unless smooth, pseudo-random noise of +-20 (seeded).
data::Image test_picture(int64_t h, int64_t w, int64_t channels, uint64_t seed, bool smooth = false);

// One generated image of a folder.
struct FolderImage {
  std::string path;
  int32_t label = 0;
  data::Image image;  // the pixels written (PNG: exactly what decodes)
};

// Writes ROOT/<split>/<class>/img<k>.png for the given classes (labels are the classes' sorted
// positions), `per_class` (< 10) images each, of sizes h..h+4 x w..w+6. Returns them in
// torchvision's order (sorted classes, sorted names).
std::vector<FolderImage> write_png_split(const std::filesystem::path& root, const std::string& split,
                                         const std::vector<std::string>& classes, int per_class, int64_t h, int64_t w,
                                         uint64_t seed);

}  // namespace lowbit::test
