// CUDA normalization of u8 images (kernels/cuda/normalize.h): a grid-stride loop, one element per
// iteration, with the channel means and standard deviations as kernel arguments.
// Napkin math: 1 B read + 4 B written per element; a 256x224x224x3 batch (38.5 M elements, 193 MB)
// is ~0.06 ms of H100 bandwidth, negligible beside the step it feeds.
#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/normalize.h"
#include "kernels/image_math.h"

namespace lowbit::cuda {
namespace {

struct Channels {
  float mean[kMaxNormalizeChannels];
  float std[kMaxNormalizeChannels];
};

__global__ void normalize_kernel(const uint8_t* src, float* dst, int64_t n, int64_t channels, Channels ch) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % channels;
    dst[i] = normalize_pixel(src[i], ch.mean[c], ch.std[c]);
  }
}

}  // namespace

void normalize_u8(const uint8_t* src, float* dst, int64_t n, int64_t channels, const float* mean, const float* std) {
  LOWBIT_CHECK(channels >= 1 && channels <= kMaxNormalizeChannels, "normalize_images (CUDA): 1 to ",
               kMaxNormalizeChannels, " channels, got ", channels);
  if (n == 0) return;
  Channels ch{};
  for (int64_t c = 0; c < channels; ++c) {
    ch.mean[c] = mean[c];
    ch.std[c] = std[c];
  }
  normalize_kernel<<<stride_grid(n), 256, 0, current_stream()>>>(src, dst, n, channels, ch);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
