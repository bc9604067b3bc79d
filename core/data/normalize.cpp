// normalize_images: the lookup table on the CPU, the kernel of kernels/cuda/normalize.cu on CUDA.
#include "core/data/normalize.h"

#include "core/data/augment.h"
#include "core/dispatch.h"
#include "core/error.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/normalize.h"
#endif

namespace lowbit::data {

void normalize_with_table(const uint8_t* src, int64_t n, int64_t c, const float* lut, float* dst) {
  if (c == 3) {  // the common case: the channel of each byte known without a division
    for (int64_t i = 0; i + 2 < n; i += 3) {
      dst[i] = lut[src[i]];
      dst[i + 1] = lut[256 + src[i + 1]];
      dst[i + 2] = lut[512 + src[i + 2]];
    }
    return;
  }
  for (int64_t i = 0; i < n; i += c)
    for (int64_t k = 0; k < c; ++k) dst[i + k] = lut[k * 256 + src[i + k]];
}

Tensor normalize_images(const Tensor& images, const std::vector<float>& mean, const std::vector<float>& std) {
  LOWBIT_CHECK(images.defined() && images.dtype() == DType::u8 && images.dim() >= 1 && images.is_contiguous(),
               "normalize_images: need a contiguous u8 tensor with channels last");
  const int64_t c = images.size(-1);
  const std::vector<float> lut = normalization_table(mean, std, c);  // checks mean and std
  Tensor out = Tensor::empty(images.shape(), DType::f32, images.device());
  const int64_t n = images.numel();
  switch (images.device().type) {
    case DeviceType::CPU:
      normalize_with_table(images.data<uint8_t>(), n, c, lut.data(), out.data<float>());
      break;
    case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
      std::vector<float> m(static_cast<size_t>(c)), s(static_cast<size_t>(c));
      for (int64_t k = 0; k < c; ++k) {
        m[static_cast<size_t>(k)] = mean.size() == 1 ? mean[0] : mean[static_cast<size_t>(k)];
        s[static_cast<size_t>(k)] = std.size() == 1 ? std[0] : std[static_cast<size_t>(k)];
      }
      cuda::normalize_u8(images.data<uint8_t>(), out.data<float>(), n, c, m.data(), s.data());
#else
      cuda_missing("normalize_images");
#endif
      break;
    }
  }
  return out;
}

}  // namespace lowbit::data
