// normalize_images: u8 image batches (NHWC, channel innermost) to f32 network inputs on the
// batch's own device: y = (v / 255 - mean[c]) / std[c] for channel c, the formula of
// kernels/image_math.h, so the CPU (lookup table) and CUDA (kernel) results are bit-identical to
// each other and to the in-memory DataLoader's. mean and std hold one value per channel or one for
// all (checked as normalization_table does). Not differentiable (input data).
#pragma once

#include <cstdint>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::data {

// images: u8, contiguous, last axis = channels (1..4 on CUDA). Returns f32 of the same shape and device.
LOWBIT_API Tensor normalize_images(const Tensor& images, const std::vector<float>& mean, const std::vector<float>& std);

// The CPU loop: dst[i] = lut[(i % channels) * 256 + src[i]] for i < n, with lut from
// normalization_table (augment.h).
LOWBIT_API void normalize_with_table(const uint8_t* src, int64_t n, int64_t channels, const float* lut, float* dst);

}  // namespace lowbit::data
