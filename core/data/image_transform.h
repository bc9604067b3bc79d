// The image-folder transforms, torchvision's recipes for ImageNet (spec algorithms.md §2.5, §4.5):
//   training:   RandomResizedCrop(size, scale, ratio) + RandomHorizontalFlip
//   evaluation: Resize(resize) (shorter side) + CenterCrop(size)
// Each picks a box of the decoded image, an output size and the window of that output to keep;
// apply_crop then resizes (resample.h) and mirrors. The random choices are a pure function of
// (seed, epoch, index in the dataset), as for the in-memory loader (augment.h), so they do not
// depend on the visiting order, the batch size or the thread: Philox with key `seed`, stream
// 2^63 + 2^61 + epoch (disjoint from the shuffle's 2^63 + epoch and the crop/flip's
// 2^63 + 2^62 + epoch), block index * 16 + attempt for the crop attempts and index * 16 + 10 for
// the flip. With u(word) = word / 2^32, attempt a (0..9) of RandomResizedCrop, on an h x w image:
//   area  = h * w * (scale_min + (scale_max - scale_min) * u(x0))
//   ratio = exp(log(ratio_min) + (log(ratio_max) - log(ratio_min)) * u(x1))
//   cw = round(sqrt(area * ratio)), ch = round(sqrt(area / ratio))   (round half to even)
//   accepted if 0 < cw <= w and 0 < ch <= h: top = floor(u(x2) * (h - ch + 1)), left likewise
//   with u(x3); after 10 refusals torchvision's fallback: the whole image clipped to the ratio
//   range, centred. The flip: u24(word 0 of block index * 16 + 10) < 1/2 (philox::to_uniform).
// Evaluation (torchvision's Resize(int) and CenterCrop): the shorter side s becomes `resize`, the
// longer l becomes floor(resize * l / s); the crop starts at round((H - size) / 2) (half to even)
// on each axis.
#pragma once

#include <cstdint>
#include <utility>

#include "core/data/image_decode.h"
#include "core/data/resample.h"
#include "core/export.h"

namespace lowbit::data {

struct ImageTransform {
  enum class Kind : uint8_t { random_resized_crop, resize_center_crop };
  Kind kind = Kind::resize_center_crop;
  int64_t size = 224;                        // output side (square)
  int64_t resize = 256;                      // resize_center_crop: the shorter side before the crop (>= size)
  double scale_min = 0.08, scale_max = 1.0;  // random_resized_crop: area fraction range
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  // random_resized_crop: aspect ratio range
  bool flip = false;                                    // random_resized_crop: mirror left-right with probability 1/2

  // Throws naming the bad field (size < 1, resize < size, scale outside (0, 1] or reversed, ratio
  // <= 0 or reversed).
  void check() const;
};

// What to do with one image: resize `box` of it to out_h x out_w, keep `window`, mirror if flip.
struct CropChoice {
  Box box;
  int64_t out_h = 0, out_w = 0;
  Box window;
  bool flip = false;
};

// torchvision's Resize(short_side) output size (height, width) for an h x w image.
LOWBIT_API std::pair<int64_t, int64_t> resized_size(int64_t h, int64_t w, int64_t short_side);

// The choice for example `index` of an h x w image in `epoch` (evaluation ignores seed, epoch, index).
LOWBIT_API CropChoice choose_crop(const ImageTransform& t, uint64_t seed, int64_t epoch, int64_t index, int64_t h,
                                  int64_t w);

// Writes the transformed image [window.height, window.width, channels] to dst.
LOWBIT_API void apply_crop(const Image& image, const CropChoice& choice, uint8_t* dst);

}  // namespace lowbit::data
