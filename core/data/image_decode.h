// Decoding of image files for image-folder datasets: JPEG (libjpeg-turbo) and PNG (libpng), both
// optional parts of the build. The format is told by the file's first bytes, not its name. Every
// image comes out as 8-bit RGB, NHWC [height, width, 3], as torchvision's default loader gives it
// (PIL's Image.open(...).convert("RGB")):
//   JPEG: the library's defaults (islow DCT, fancy upsampling); grayscale -> R = G = B; CMYK/YCCK
//         -> RGB by R = C*K/255 (rounded) on the stored values, which Adobe files store inverted
//         (without the Adobe marker the stored values are inverted first).
//   PNG:  palette -> RGB, gray -> R = G = B, 1/2/4-bit gray scaled to 8 bits, 16-bit samples keep
//         their high byte, alpha and tRNS transparency are dropped (no compositing), gamma ignored.
// A file that cannot be decoded throws lowbit::Error naming it and the reason: not a JPEG or PNG
// file, a decoder left out of the build, truncated or corrupt data (as the library reports it; a
// JPEG that ends early is refused, unlike libjpeg's default), or more than kMaxImagePixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"

namespace lowbit::data {

// An 8-bit image, NHWC: pixels[(y * width + x) * channels + c].
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

enum class ImageFormat { unknown, jpeg, png };

// Refused above this many pixels (width * height), before any allocation: 2^28 (about 16k x 16k).
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// From the signature: JPEG starts FF D8 FF, PNG 89 'P' 'N' 'G' 0D 0A 1A 0A.
LOWBIT_API ImageFormat sniff_image_format(const uint8_t* data, size_t size);

// Whether the build has the decoder.
LOWBIT_API bool jpeg_supported();
LOWBIT_API bool png_supported();

// Decodes an in-memory file to RGB; `name` (usually the path) starts every error message.
LOWBIT_API Image decode_image(const uint8_t* data, size_t size, const std::string& name);
// Reads and decodes the file at `path`.
LOWBIT_API Image read_image(const std::string& path);

// The decoders behind decode_image (the format is not checked again). Without the library they
// throw saying that lowbit was built without it.
Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name);
Image decode_png(const uint8_t* data, size_t size, const std::string& name);

}  // namespace lowbit::data
