// Encoding of 8-bit images to PNG (libpng) and JPEG (libjpeg-turbo), the writers matching the
// decoders of image_decode.h and available when they are (png_supported(), jpeg_supported());
// without the library they throw saying so. Used to write test and benchmark image folders.
#pragma once

#include <cstdint>
#include <vector>

#include "core/data/image_decode.h"
#include "core/export.h"

namespace lowbit::data {

// A PNG of h x w samples in PNG's color type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA) and
// bit depth (1, 2, 4, 8, 16 as PNG allows for the type); `samples` holds one value per sample
// (palette: indices), row-major, channels innermost. Palette images take `palette` (RGB triples).
struct PngSpec {
  int color_type = 2;
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<uint8_t> palette;  // 3 bytes per entry
};
LOWBIT_API std::vector<uint8_t> encode_png(int64_t h, int64_t w, const std::vector<uint16_t>& samples,
                                           const PngSpec& spec);
// An 8-bit gray (1 channel) or RGB (3 channels) PNG of the image.
LOWBIT_API std::vector<uint8_t> encode_png(const Image& image);

// A JPEG of an image with 1 (gray), 3 (RGB) or 4 (CMYK, stored as given with libjpeg's Adobe
// marker) channels, at quality 1..100; subsample: 4:2:0 chroma instead of 4:4:4.
LOWBIT_API std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 95, bool subsample = false);

}  // namespace lowbit::data
