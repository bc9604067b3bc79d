// Tests for image decoding (core/data/image_decode.h), with images written by the encoders of
// core/data/image_encode.h: PNG of every color type and bit depth decodes to exactly the RGB
// values written; JPEG within the codec's tolerance (gray exactly
// equal across channels, CMYK by the documented rule); the format is told by the signature, not
// the name; corrupt, truncated, empty and foreign files are refused with their name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/data/image_decode.h"
#include "core/data/image_encode.h"
#include "core/error.h"
#include "tests/file_util.h"
#include "tests/image_files.h"

namespace lowbit::data {
namespace {

using data::PngSpec;
using test::Bytes;
using test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

Image decode(const Bytes& b, const std::string& name = "img") { return decode_image(b.data(), b.size(), name); }

// Samples 0..max from a fixed pattern, n of them.
std::vector<uint16_t> pattern(size_t n, int max, int seed) {
  std::vector<uint16_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint16_t>((i * 37 + static_cast<size_t>(seed) * 11 + i * i) % (max + 1));
  return v;
}

TEST(ImageDecode, SniffsTheSignature) {
  const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0};
  const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a'};
  EXPECT_EQ(sniff_image_format(jpeg, sizeof jpeg), ImageFormat::jpeg);
  EXPECT_EQ(sniff_image_format(png, sizeof png), ImageFormat::png);
  EXPECT_EQ(sniff_image_format(png, 7), ImageFormat::unknown);
  EXPECT_EQ(sniff_image_format(gif, sizeof gif), ImageFormat::unknown);
  EXPECT_EQ(sniff_image_format(jpeg, 0), ImageFormat::unknown);
}

TEST(ImageDecode, PngRgbIsExact) {
  SKIP_WITHOUT_PNG();
  for (bool interlaced : {false, true}) {
    const Image img = test::test_picture(13, 17, 3, 5);
    PngSpec spec;
    spec.interlaced = interlaced;
    const Image got =
        decode(data::encode_png(13, 17, std::vector<uint16_t>(img.pixels.begin(), img.pixels.end()), spec));
    EXPECT_EQ(got.height, 13);
    EXPECT_EQ(got.width, 17);
    EXPECT_EQ(got.channels, 3);
    EXPECT_EQ(got.pixels, img.pixels) << "interlaced " << interlaced;
  }
}

TEST(ImageDecode, PngColorTypesBecomeRgbExactly) {
  SKIP_WITHOUT_PNG();
  const int64_t h = 5, w = 9, n = h * w;
  struct Case {
    int color_type, bit_depth;
  };
  for (const Case& c :
       std::vector<Case>{{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 16}, {4, 8}, {6, 8}, {6, 16}, {3, 8}, {3, 4}}) {
    SCOPED_TRACE("color type " + std::to_string(c.color_type) + " bit depth " + std::to_string(c.bit_depth));
    PngSpec spec;
    spec.color_type = c.color_type;
    spec.bit_depth = c.bit_depth;
    const int channels = c.color_type == 0 || c.color_type == 3 ? 1 : c.color_type == 2 ? 3 : c.color_type == 4 ? 2 : 4;
    const int max = c.color_type == 3 ? (1 << std::min(c.bit_depth, 4)) - 1 : (1 << c.bit_depth) - 1;
    const std::vector<uint16_t> s = pattern(static_cast<size_t>(n * channels), max, c.color_type * 16 + c.bit_depth);
    if (c.color_type == 3)
      for (int i = 0; i <= max; ++i)
        for (int k = 0; k < 3; ++k) spec.palette.push_back(static_cast<uint8_t>(i * 13 + k * 70));
    const Image got = decode(data::encode_png(h, w, s, spec));
    ASSERT_EQ(got.channels, 3);
    ASSERT_EQ(got.pixels.size(), static_cast<size_t>(n * 3));
    for (int64_t p = 0; p < n; ++p) {
      for (int k = 0; k < 3; ++k) {
        const auto sample = [&](int ch) { return s[static_cast<size_t>(p * channels + ch)]; };
        int want = 0;
        if (c.color_type == 3) {
          want = spec.palette[static_cast<size_t>(sample(0) * 3 + k)];
        } else {
          const int ch = channels >= 3 ? k : 0;  // gray (+alpha): the gray sample on every channel
          const int v = sample(ch);
          // 1/2/4-bit gray is scaled to 8 bits by bit replication (libpng's expand: 0..max -> 0..255);
          // 16-bit keeps its high byte; alpha is dropped.
          want = c.bit_depth == 16 ? v >> 8 : c.bit_depth < 8 ? v * 255 / max : v;
        }
        ASSERT_EQ(got.pixels[static_cast<size_t>(p * 3 + k)], want) << "pixel " << p << " channel " << k;
      }
    }
  }
}

// Mean and max absolute difference between two images of the same size.
std::pair<double, int> difference(const Image& a, const Image& b) {
  double sum = 0;
  int worst = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    sum += d;
    worst = std::max(worst, d);
  }
  return {sum / static_cast<double>(a.pixels.size()), worst};
}

TEST(ImageDecode, JpegRgbWithinTolerance) {
  SKIP_WITHOUT_JPEG();
  const Image img = test::test_picture(24, 40, 3, 9, /*smooth=*/true);
  const Image got = decode(data::encode_jpeg(img, 100, false));
  ASSERT_EQ(got.height, 24);
  ASSERT_EQ(got.width, 40);
  ASSERT_EQ(got.channels, 3);
  const auto [mean, worst] = difference(got, img);
  EXPECT_LT(mean, 1.0);  // quality 100, 4:4:4: only the DCT and color-conversion rounding remain
  EXPECT_LE(worst, 4);
  // 4:2:0 chroma at quality 90: still close on a smooth picture.
  const auto [mean2, worst2] = difference(decode(data::encode_jpeg(img, 90, true)), img);
  EXPECT_LT(mean2, 3.0);
  EXPECT_LE(worst2, 16);
}

TEST(ImageDecode, JpegGrayIsReplicatedToRgb) {
  SKIP_WITHOUT_JPEG();
  const Image img = test::test_picture(16, 16, 1, 3, true);
  const Image got = decode(data::encode_jpeg(img, 100));
  ASSERT_EQ(got.channels, 3);
  for (int64_t p = 0; p < 16 * 16; ++p) {
    const uint8_t* px = got.pixels.data() + p * 3;
    ASSERT_EQ(px[0], px[1]);
    ASSERT_EQ(px[0], px[2]);
    EXPECT_LE(std::abs(int(px[0]) - int(img.pixels[static_cast<size_t>(p)])), 2) << p;
  }
}

TEST(ImageDecode, JpegCmykUsesTheAdobeRule) {
  SKIP_WITHOUT_JPEG();
  const Image cmyk = test::test_picture(16, 24, 4, 4, true);  // stored values, Adobe marker (libjpeg writes one)
  const Image got = decode(data::encode_jpeg(cmyk, 100));
  ASSERT_EQ(got.channels, 3);
  double sum = 0;
  for (int64_t p = 0; p < 16 * 24; ++p) {
    const uint8_t* s = cmyk.pixels.data() + p * 4;
    for (int k = 0; k < 3; ++k) {
      const double want = double(s[k]) * double(s[3]) / 255.0;
      const double d = std::abs(double(got.pixels[static_cast<size_t>(p * 3 + k)]) - want);
      EXPECT_LE(d, 5.0) << "pixel " << p << " channel " << k;
      sum += d;
    }
  }
  EXPECT_LT(sum / (16 * 24 * 3), 1.5);
}

TEST(ImageDecode, FormatComesFromTheContentNotTheName) {
  SKIP_WITHOUT_PNG();
  test::TempDir dir("decode_name");
  const Image img = test::test_picture(4, 6, 3, 1);
  const std::string path = dir.put("really_a_png.JPEG", data::encode_png(img));
  EXPECT_EQ(read_image(path).pixels, img.pixels);
}

TEST(ImageDecode, RefusesBadFilesNamingThem) {
  test::TempDir dir("decode_bad");
  EXPECT_THAT(error_of([&] { read_image(dir.put("empty.jpg", {})); }),
              AllOf(HasSubstr("empty.jpg"), HasSubstr("not a JPEG or PNG file")));
  EXPECT_THAT(error_of([&] {
                read_image(dir.put("text.png", {'h', 'e', 'l', 'l', 'o'}));
              }),
              AllOf(HasSubstr("text.png"), HasSubstr("not a JPEG or PNG")));
  EXPECT_THAT(error_of([&] { read_image(dir.file("missing.png")); }),
              AllOf(HasSubstr("missing.png"), HasSubstr("cannot open")));
  EXPECT_THAT(error_of([&] { read_image(dir.path().string()); }), HasSubstr("is a directory"));
}

TEST(ImageDecode, RefusesCorruptPng) {
  SKIP_WITHOUT_PNG();
  const Bytes good = data::encode_png(test::test_picture(20, 20, 3, 2));
  Bytes truncated(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  EXPECT_THAT(error_of([&] { decode(truncated, "t.png"); }), AllOf(HasSubstr("t.png"), HasSubstr("corrupt PNG")));
  Bytes flipped = good;
  flipped[good.size() / 2] ^= 0x5A;  // inside the image data: its CRC no longer matches
  EXPECT_THAT(error_of([&] { decode(flipped, "f.png"); }), AllOf(HasSubstr("f.png"), HasSubstr("corrupt PNG")));
  Bytes header_only(good.begin(), good.begin() + 8);
  EXPECT_THAT(error_of([&] { decode(header_only, "h.png"); }), HasSubstr("corrupt PNG"));
}

TEST(ImageDecode, RefusesCorruptJpeg) {
  SKIP_WITHOUT_JPEG();
  const Bytes good = data::encode_jpeg(test::test_picture(32, 32, 3, 2));
  Bytes truncated(good.begin(), good.begin() + static_cast<long>(good.size() * 2 / 3));
  EXPECT_THAT(error_of([&] { decode(truncated, "t.jpg"); }),
              AllOf(HasSubstr("t.jpg"), HasSubstr("corrupt JPEG"), HasSubstr("truncated")));
  Bytes header_only(good.begin(), good.begin() + 3);
  EXPECT_THAT(error_of([&] { decode(header_only, "h.jpg"); }), AllOf(HasSubstr("h.jpg"), HasSubstr("corrupt JPEG")));
  Bytes garbage = good;
  for (size_t i = 3; i < 40 && i < garbage.size(); ++i) garbage[i] = 0x00;  // destroys the markers
  EXPECT_THAT(error_of([&] { decode(garbage, "g.jpg"); }), AllOf(HasSubstr("g.jpg"), HasSubstr("corrupt JPEG")));
}

TEST(ImageEncode, RefusesImagesItCannotWrite) {
  SKIP_WITHOUT_PNG();
  SKIP_WITHOUT_JPEG();
  EXPECT_THAT(error_of([] { encode_png(2, 2, std::vector<uint16_t>(5), PngSpec{}); }), HasSubstr("need 2x2x3 samples"));
  EXPECT_THAT(error_of([] { encode_png(test::test_picture(2, 2, 2, 1)); }), HasSubstr("1 or 3 channels"));
  EXPECT_THAT(error_of([] {
                PngSpec b;
                b.bit_depth = 3;
                encode_png(2, 2, std::vector<uint16_t>(12), b);
              }),
              HasSubstr("libpng refused"));
  EXPECT_THAT(error_of([] { encode_jpeg(test::test_picture(2, 2, 2, 1)); }), HasSubstr("1, 3 or 4 channels"));
  EXPECT_THAT(error_of([] { encode_jpeg(test::test_picture(2, 2, 3, 1), 0); }), HasSubstr("quality"));
}

TEST(ImageDecode, MissingDecoderIsNamed) {
  if (jpeg_supported() && png_supported()) GTEST_SKIP() << "both decoders are built in";
  const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0};
  const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0};
  if (!jpeg_supported()) {
    EXPECT_THAT(error_of([&] { decode_image(jpeg, sizeof jpeg, "x.jpg"); }), HasSubstr("built without libjpeg"));
    EXPECT_THAT(error_of([] { encode_jpeg(test::test_picture(2, 2, 3, 1)); }), HasSubstr("built without libjpeg"));
  }
  if (!png_supported()) {
    EXPECT_THAT(error_of([&] { decode_image(png, sizeof png, "x.png"); }), HasSubstr("built without libpng"));
    EXPECT_THAT(error_of([] { encode_png(test::test_picture(2, 2, 3, 1)); }), HasSubstr("built without libpng"));
  }
}

}  // namespace
}  // namespace lowbit::data
