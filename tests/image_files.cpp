// Test pictures and generated image folders for the image-folder tests (image_files.h).
#include "tests/image_files.h"

#include <algorithm>

#include "kernels/philox.h"

namespace lowbit::test {

data::Image test_picture(int64_t h, int64_t w, int64_t channels, uint64_t seed, bool smooth) {
  data::Image img;
  img.height = h;
  img.width = w;
  img.channels = channels;
  img.pixels.resize(static_cast<size_t>(h * w * channels));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t i = (y * w + x) * channels + c;
        // Channel 0 ramps along x, 1 along y, the others along both; 20..200 plus an offset.
        const int64_t t = c == 0 ? 180 * x / w : c == 1 ? 180 * y / h : 180 * (x + y) / (h + w);
        int v = static_cast<int>(20 + t + 10 * c + static_cast<int64_t>(seed % 23));
        if (!smooth) v += static_cast<int>(philox::bits(seed, 7, static_cast<uint64_t>(i)) % 41) - 20;
        img.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
  return img;
}

std::vector<FolderImage> write_png_split(const std::filesystem::path& root, const std::string& split,
                                         const std::vector<std::string>& classes, int per_class, int64_t h, int64_t w,
                                         uint64_t seed) {
  std::vector<std::string> sorted = classes;
  std::sort(sorted.begin(), sorted.end());
  std::vector<FolderImage> out;
  for (size_t label = 0; label < sorted.size(); ++label) {
    const std::filesystem::path dir = root / split / sorted[label];
    std::filesystem::create_directories(dir);
    for (int k = 0; k < per_class; ++k) {
      FolderImage f;
      f.path = (dir / ("img" + std::to_string(k) + ".png")).string();
      f.label = static_cast<int32_t>(label);
      const uint64_t s = seed * 1000 + label * 100 + static_cast<uint64_t>(k);
      f.image = test_picture(h + static_cast<int64_t>(s % 5), w + static_cast<int64_t>((s / 5) % 7), 3, s);
      write_bytes(f.path, data::encode_png(f.image));
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace lowbit::test
