// Tests for the image-folder transforms: the antialiased bilinear resize (core/data/resample.h)
// against the float64 reference of tests/reference/image_ref.h (down- and up-sampling, boxes,
// windows, 1 and 3 channels), torchvision's Resize/CenterCrop sizes and offsets, and
// RandomResizedCrop (core/data/image_transform.h) against a transcription of torchvision's
// get_params fed the same Philox draws, its determinism and its statistics, and the flip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/data/image_transform.h"
#include "core/data/resample.h"
#include "core/error.h"
#include "kernels/philox.h"
#include "tests/file_util.h"
#include "tests/image_files.h"
#include "tests/reference/image_ref.h"

namespace lowbit::data {
namespace {

using test::error_of;
using ::testing::HasSubstr;

// The resize of `box` to out_h x out_w (window = the whole output) must be the float64 value
// rounded: |got - exact| <= 0.5 plus f32 rounding.
void expect_resize_matches(const Image& img, Box box, int64_t out_h, int64_t out_w) {
  SCOPED_TRACE(std::to_string(box.height) + "x" + std::to_string(box.width) + " -> " + std::to_string(out_h) + "x" +
               std::to_string(out_w));
  std::vector<uint8_t> got(static_cast<size_t>(out_h * out_w * img.channels));
  resize_bilinear(img.pixels.data(), img.height, img.width, img.channels, box, out_h, out_w, {0, 0, out_h, out_w},
                  got.data());
  const std::vector<double> want = ref::resize_bilinear(img.pixels, img.height, img.width, img.channels, box.top,
                                                        box.left, box.height, box.width, out_h, out_w);
  int off_by_rounding = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(double(got[i]) - want[i]);
    ASSERT_LE(d, 0.5 + 1e-3) << "element " << i << ": got " << int(got[i]) << ", exact " << want[i];
    off_by_rounding += got[i] != static_cast<uint8_t>(std::floor(want[i] + 0.5));
  }
  EXPECT_LE(off_by_rounding, static_cast<int>(got.size() / 200 + 1));  // only values within f32 error of .5
}

TEST(ImageResize, MatchesTheFloat64Reference) {
  const Image img = test::test_picture(37, 53, 3, 11);
  expect_resize_matches(img, {0, 0, 37, 53}, 37, 53);  // same size
  expect_resize_matches(img, {0, 0, 37, 53}, 16, 24);  // down by ~2.3
  expect_resize_matches(img, {0, 0, 37, 53}, 5, 4);    // down by ~10 (wide footprint)
  expect_resize_matches(img, {0, 0, 37, 53}, 90, 61);  // up
  expect_resize_matches(img, {0, 0, 37, 53}, 20, 80);  // down on one axis, up on the other
  expect_resize_matches(img, {3, 7, 20, 11}, 24, 24);  // a box: the filter sees only the box
  expect_resize_matches(img, {36, 52, 1, 1}, 3, 2);    // a single pixel
  const Image gray = test::test_picture(19, 23, 1, 3);
  expect_resize_matches(gray, {2, 1, 15, 20}, 7, 9);
}

TEST(ImageResize, SameSizeIsTheIdentity) {
  const Image img = test::test_picture(9, 14, 3, 2);
  std::vector<uint8_t> got(img.pixels.size());
  resize_bilinear(img.pixels.data(), 9, 14, 3, {0, 0, 9, 14}, 9, 14, {0, 0, 9, 14}, got.data());
  EXPECT_EQ(got, img.pixels);
}

TEST(ImageResize, AWindowIsThatPartOfTheWholeOutput) {
  const Image img = test::test_picture(31, 45, 3, 4);
  const int64_t oh = 20, ow = 29;
  std::vector<uint8_t> whole(static_cast<size_t>(oh * ow * 3));
  resize_bilinear(img.pixels.data(), 31, 45, 3, {0, 0, 31, 45}, oh, ow, {0, 0, oh, ow}, whole.data());
  const Box win{5, 7, 11, 13};
  std::vector<uint8_t> part(static_cast<size_t>(win.height * win.width * 3));
  resize_bilinear(img.pixels.data(), 31, 45, 3, {0, 0, 31, 45}, oh, ow, win, part.data());
  for (int64_t y = 0; y < win.height; ++y)
    for (int64_t x = 0; x < win.width * 3; ++x)
      ASSERT_EQ(part[static_cast<size_t>(y * win.width * 3 + x)],
                whole[static_cast<size_t>(((win.top + y) * ow + win.left) * 3 + x)]);
}

TEST(ImageResize, RefusesBoxesAndWindowsOutside) {
  const Image img = test::test_picture(8, 8, 3, 1);
  std::vector<uint8_t> out(1000);
  EXPECT_THAT(error_of([&] {
                resize_bilinear(img.pixels.data(), 8, 8, 3, {4, 0, 5, 8}, 4, 4, {0, 0, 4, 4}, out.data());
              }),
              HasSubstr("not inside the 8x8 image"));
  EXPECT_THAT(error_of([&] {
                resize_bilinear(img.pixels.data(), 8, 8, 3, {0, 0, 8, 8}, 4, 4, {1, 0, 4, 4}, out.data());
              }),
              HasSubstr("not inside the 4x4 output"));
  EXPECT_THAT(error_of([&] {
                resize_bilinear(img.pixels.data(), 8, 8, 3, {0, 0, 8, 8}, 0, 4, {0, 0, 0, 4}, out.data());
              }),
              HasSubstr("output size must be >= 1"));
}

TEST(ImageTransform, ResizeAndCenterCropFollowTorchvision) {
  // Resize(256): the shorter side becomes 256, the longer int(256 * long / short).
  EXPECT_EQ(resized_size(375, 500, 256), (std::pair<int64_t, int64_t>{256, 341}));  // 341.33
  EXPECT_EQ(resized_size(500, 375, 256), (std::pair<int64_t, int64_t>{341, 256}));
  EXPECT_EQ(resized_size(333, 500, 256), (std::pair<int64_t, int64_t>{256, 384}));  // 384.38
  EXPECT_EQ(resized_size(100, 100, 256), (std::pair<int64_t, int64_t>{256, 256}));
  EXPECT_EQ(resized_size(3, 1000, 2), (std::pair<int64_t, int64_t>{2, 666}));
  ImageTransform t;  // Resize(256) + CenterCrop(224)
  const CropChoice c = choose_crop(t, 0, 0, 0, 375, 500);
  EXPECT_EQ(c.box, (Box{0, 0, 375, 500}));
  EXPECT_EQ(c.out_h, 256);
  EXPECT_EQ(c.out_w, 341);
  // CenterCrop: top = round((256 - 224) / 2) = 16, left = round((341 - 224) / 2) = round(58.5) = 58 (half to even).
  EXPECT_EQ(c.window, (Box{16, 58, 224, 224}));
  EXPECT_FALSE(c.flip);
  EXPECT_EQ(choose_crop(t, 0, 0, 0, 500, 333).window, (Box{80, 16, 224, 224}));  // resized to 384x256
  t.resize = 224;
  EXPECT_EQ(choose_crop(t, 0, 0, 0, 224, 227).window, (Box{0, 2, 224, 224}));  // round(1.5) = 2
  EXPECT_EQ(choose_crop(t, 0, 0, 0, 224, 229).window, (Box{0, 2, 224, 224}));  // round(2.5) = 2
}

// The Philox draws of RandomResizedCrop's attempts for one example, as the reference takes them.
std::vector<std::vector<double>> draws(uint64_t seed, int64_t epoch, int64_t index) {
  const uint64_t stream = (uint64_t{1} << 63) + (uint64_t{1} << 61) + static_cast<uint64_t>(epoch);
  std::vector<std::vector<double>> u;
  for (uint64_t a = 0; a < 10; ++a) {
    const philox::U4 w = philox::block(seed, stream, static_cast<uint64_t>(index) * 16 + a);
    u.push_back({w.x[0] / 4294967296.0, w.x[1] / 4294967296.0, w.x[2] / 4294967296.0, w.x[3] / 4294967296.0});
  }
  return u;
}

TEST(ImageTransform, RandomResizedCropMatchesTorchvisionsAlgorithm) {
  ImageTransform t;
  t.kind = ImageTransform::Kind::random_resized_crop;
  t.size = 32;
  t.flip = true;
  int fallbacks = 0;
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{375, 500}, {64, 64}, {20, 300}, {300, 7}, {1, 1}}) {
    for (int64_t index = 0; index < 200; ++index) {
      const CropChoice c = choose_crop(t, 42, 3, index, h, w);
      const std::vector<int64_t> want =
          ref::random_resized_crop_params(h, w, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, draws(42, 3, index));
      ASSERT_EQ(c.box, (Box{want[0], want[1], want[2], want[3]})) << h << "x" << w << " index " << index;
      ASSERT_EQ(c.out_h, 32);
      ASSERT_EQ(c.out_w, 32);
      ASSERT_EQ(c.window, (Box{0, 0, 32, 32}));
      fallbacks += c.box.top == (h - c.box.height) / 2 && c.box.left == (w - c.box.width) / 2 && h == 20;
    }
  }
  EXPECT_GT(fallbacks, 0);  // the 20x300 strip is too thin for most attempts: the fallback is exercised
}

TEST(ImageTransform, RandomResizedCropIsAPureFunctionWithTheRightStatistics) {
  ImageTransform t;
  t.kind = ImageTransform::Kind::random_resized_crop;
  t.flip = true;
  const int64_t h = 400, w = 400, n = 4000;
  double area = 0, log_ratio = 0;
  int flips = 0, changed = 0;
  for (int64_t i = 0; i < n; ++i) {
    const CropChoice c = choose_crop(t, 7, 0, i, h, w);
    const CropChoice again = choose_crop(t, 7, 0, i, h, w);
    ASSERT_EQ(c.box, again.box);
    ASSERT_EQ(c.flip, again.flip);
    ASSERT_GE(c.box.top, 0);
    ASSERT_GE(c.box.left, 0);
    ASSERT_LE(c.box.top + c.box.height, h);
    ASSERT_LE(c.box.left + c.box.width, w);
    area += double(c.box.height * c.box.width) / double(h * w);
    log_ratio += std::log(double(c.box.width) / double(c.box.height));
    flips += c.flip;
    const CropChoice next_epoch = choose_crop(t, 7, 1, i, h, w);
    changed += !(next_epoch.box == c.box);
  }
  // On a square image a draw (s, L = log ratio) is accepted iff s <= exp(-|L|) = m, |L| uniform on
  // [0, a], a = log(4/3). Given m, accepted s is uniform on [0.08, m] with weight m - 0.08, so
  // E[s] = (int (m^2 - 0.08^2) / 2 dL) / (int (m - 0.08) dL) over [0, a]
  //      = ((1 - 0.75^2) / 2 - 0.0064 a) / 2 / (0.25 - 0.08 a) = 0.4778; log-ratios are symmetric.
  EXPECT_NEAR(area / n, 0.4778, 0.015);
  EXPECT_NEAR(log_ratio / n, 0.0, 0.02);
  EXPECT_NEAR(double(flips) / n, 0.5, 0.03);
  EXPECT_GT(changed, n * 9 / 10);  // another epoch, other crops
}

TEST(ImageTransform, ApplyCropResizesTheBoxAndMirrors) {
  const Image img = test::test_picture(30, 40, 3, 8);
  CropChoice c;
  c.box = {4, 6, 20, 25};
  c.out_h = c.out_w = 12;
  c.window = {0, 0, 12, 12};
  std::vector<uint8_t> plain(12 * 12 * 3), mirrored(12 * 12 * 3), direct(12 * 12 * 3);
  apply_crop(img, c, plain.data());
  resize_bilinear(img.pixels.data(), 30, 40, 3, c.box, 12, 12, c.window, direct.data());
  EXPECT_EQ(plain, direct);
  c.flip = true;
  apply_crop(img, c, mirrored.data());
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 12; ++x)
      for (int64_t k = 0; k < 3; ++k)
        ASSERT_EQ(mirrored[static_cast<size_t>((y * 12 + x) * 3 + k)],
                  plain[static_cast<size_t>((y * 12 + 11 - x) * 3 + k)]);
}

TEST(ImageTransform, RefusesBadSettings) {
  ImageTransform t;
  t.resize = 100;
  EXPECT_THAT(error_of([&] { t.check(); }), HasSubstr("resize (100) must be >= size (224)"));
  t = ImageTransform{};
  t.kind = ImageTransform::Kind::random_resized_crop;
  t.scale_min = 0;
  EXPECT_THAT(error_of([&] { t.check(); }), HasSubstr("scale range"));
  t.scale_min = 0.5;
  t.ratio_min = 2;
  EXPECT_THAT(error_of([&] { t.check(); }), HasSubstr("ratio range"));
  t = ImageTransform{};
  t.size = 0;
  EXPECT_THAT(error_of([&] { t.check(); }), HasSubstr("size must be >= 1"));
}

}  // namespace
}  // namespace lowbit::data
