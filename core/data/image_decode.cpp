// Image decoding: the format sniffing, the file reading, and the dispatch to the JPEG and PNG
// decoders (jpeg_decode.cpp, png_decode.cpp).
#include "core/data/image_decode.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace lowbit::data {

ImageFormat sniff_image_format(const uint8_t* data, size_t size) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::jpeg;
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return ImageFormat::png;
  return ImageFormat::unknown;
}

bool jpeg_supported() {
#if LOWBIT_WITH_JPEG
  return true;
#else
  return false;
#endif
}

bool png_supported() {
#if LOWBIT_WITH_PNG
  return true;
#else
  return false;
#endif
}

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  switch (sniff_image_format(data, size)) {
    case ImageFormat::jpeg:
      return decode_jpeg(data, size, name);
    case ImageFormat::png:
      return decode_png(data, size, name);
    case ImageFormat::unknown:
      break;
  }
  LOWBIT_FAIL(name, ": not a JPEG or PNG file (", size == 0 ? "empty" : "unknown signature", ")");
}

Image read_image(const std::string& path) {
  std::error_code ec;
  LOWBIT_CHECK(!std::filesystem::is_directory(path, ec), path, ": cannot read the image: is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) LOWBIT_FAIL(path, ": cannot open the image: ", std::strerror(errno));
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  LOWBIT_CHECK(size >= 0, path, ": cannot determine the file size");
  f.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  f.read(reinterpret_cast<char*>(bytes.data()), size);
  LOWBIT_CHECK(f.gcount() == size, path, ": read error: got ", f.gcount(), " of ", size, " bytes");
  return decode_image(bytes.data(), bytes.size(), path);
}

}  // namespace lowbit::data
