// Per-image training augmentation and normalization for the DataLoader, on NHWC u8 images:
//   random crop: zero-pad by `pad` pixels per side and cut an HxW window at offset (oy, ox), each
//                uniform in [0, 2*pad] (torchvision's RandomCrop(size, padding=pad));
//   flip:        mirror the cropped window left-right with probability 1/2;
//   normalize:   (pixel / 255 - mean[c]) / std[c] for channel c, after padding, so a padded pixel
//                is the raw value 0 normalized: -mean[c] / std[c] (as torchvision's pipeline gives).
// The random choices are a pure function of (seed, epoch, index in the dataset): Philox with key
// `seed`, stream 2^63 + 2^62 + epoch (disjoint from the shuffle's 2^63 + epoch and from a
// Generator's streams), block `index`; words 0, 1, 2 give oy, ox and the flip. So they do not
// depend on the visiting order, the batch size or which thread builds the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "core/export.h"

namespace lowbit::data {

struct AugmentChoice {
  int64_t oy = 0, ox = 0;  // window offset in the padded image, in [0, 2*pad]
  bool flip = false;
};

// The choice for one example; pad = 0 gives offsets 0, flip_enabled = false gives flip = false.
LOWBIT_API AugmentChoice augment_choice(uint64_t seed, int64_t epoch, int64_t index, int64_t pad,
                                        bool flip_enabled);

// lut[c * 256 + v] = (v / 255 - mean[c]) / std[c] for `channels` channels; mean and std hold one
// value per channel or a single value for all. Throws on sizes that fit neither, a non-finite
// mean or std, or std <= 0.
LOWBIT_API std::vector<float> normalization_table(const std::vector<float>& mean, const std::vector<float>& std,
                                                  int64_t channels);

// Writes one augmented, normalized image [h, w, c] (f32) to dst from src [h, w, c] (u8).
// Cost: h*w*c table look-ups, no arithmetic beyond the index.
LOWBIT_API void augment_image(const uint8_t* src, int64_t h, int64_t w, int64_t c, int64_t pad,
                              const AugmentChoice& choice, const float* lut, float* dst);

}  // namespace lowbit::data
