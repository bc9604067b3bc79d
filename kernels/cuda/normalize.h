// CUDA normalization of u8 image batches to f32 (core/data/normalize.h), the twin of the CPU
// lookup table: the same LOWBIT_HD formula (kernels/image_math.h), so the bits match. Device
// pointers; mean and std are passed by value (at most kMaxNormalizeChannels channels); current
// stream; no host synchronization.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

inline constexpr int kMaxNormalizeChannels = 4;

// dst[i] = normalize_pixel(src[i], mean[i % channels], std[i % channels]) for i < n.
void normalize_u8(const uint8_t* src, float* dst, int64_t n, int64_t channels, const float* mean, const float* std);

}  // namespace lowbit::cuda
