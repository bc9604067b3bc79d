// Image resizing for the image-folder transforms: bilinear resampling with antialiasing, as PIL's
// Image.resize(size, Image.BILINEAR) on a cropped image (torchvision's Resize and
// RandomResizedCrop on PIL images). Definition, per axis, for input length `in` (the box) and
// output length `out`: scale = in / out, f = max(scale, 1), support = f; output position i has
// center c = (i + 0.5) * scale and takes the inputs x in [max(floor(c - f + 0.5), 0),
// min(floor(c + f + 0.5), in)) with weights tri((x + 0.5 - c) / f), tri(t) = max(0, 1 - |t|),
// divided by their sum (so up-sampling is plain half-pixel bilinear with edge clamping, and
// down-sampling averages over the footprint). The 2-D result is the separable product: out(y, x)
// = sum_i sum_j wy_i wx_j in(y_i, x_j), rounded half up and clamped to [0, 255].
// The filter sees only the box (a crop, then a resize). Computed in f32 (rows first, then columns,
// without PIL's 8-bit rounding between the passes), so it can differ from PIL by a level or two
// and from the exact value by at most 0.5 plus f32 rounding (tests/reference/image_ref.h checks).
#pragma once

#include <cstdint>

#include "core/export.h"

namespace lowbit::data {

// Rows [top, top + height), columns [left, left + width) of an image.
struct Box {
  int64_t top = 0, left = 0, height = 0, width = 0;
  bool operator==(const Box&) const = default;
};

// Resizes `box` of src [src_h, src_w, channels] (u8, NHWC) to out_h x out_w and writes the part
// `window` of that output to dst [window.height, window.width, channels]. Throws on a box or
// window outside its image or an empty size.
LOWBIT_API void resize_bilinear(const uint8_t* src, int64_t src_h, int64_t src_w, int64_t channels, Box box,
                                int64_t out_h, int64_t out_w, Box window, uint8_t* dst);

}  // namespace lowbit::data
