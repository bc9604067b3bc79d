// Float64 references for the image-folder transforms (core/data/resample.h, image_transform.h),
// written from their definitions, independently of the library code.
#pragma once

#include <cstdint>
#include <vector>

namespace lowbit::ref {

// PIL-style antialiased bilinear resize of the box (top, left, bh, bw) of src [h, w, c] to
// out_h x out_w, unrounded: for every output position and every input pixel of the box, the
// triangle weight tri((x + 0.5 - center) / f), normalized per output position; the 2-D value is
// the double sum over both axes. Returns [out_h, out_w, c].
std::vector<double> resize_bilinear(const std::vector<uint8_t>& src, int64_t h, int64_t w, int64_t c, int64_t top,
                                    int64_t left, int64_t bh, int64_t bw, int64_t out_h, int64_t out_w);

// torchvision's RandomResizedCrop.get_params on an h x w image, given the uniform draws of each of
// the 10 attempts (u[a][0..3]: area, log-ratio, top, left in [0, 1)). Returns {top, left, ch, cw}.
std::vector<int64_t> random_resized_crop_params(int64_t h, int64_t w, double scale_min, double scale_max,
                                                double ratio_min, double ratio_max,
                                                const std::vector<std::vector<double>>& u);

}  // namespace lowbit::ref
