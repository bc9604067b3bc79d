// CPU random fills: each element is a pure function of (seed, stream, index), as on CUDA.
#include "kernels/cpu/random.h"

#include "kernels/philox.h"

namespace lowbit::cpu {

void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = 0; i < n; ++i) dst[i] = philox::uniform(seed, stream, static_cast<uint64_t>(i));
}

void fill_normal(float* dst, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = 0; i < n; ++i) dst[i] = philox::normal(seed, stream, static_cast<uint64_t>(i));
}

void fill_randint(int32_t* dst, int64_t n, uint64_t seed, uint64_t stream, int64_t low, int64_t high) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = static_cast<int32_t>(philox::randint(seed, stream, static_cast<uint64_t>(i), low, high));
}

void fill_dropout_mask(float* dst, int64_t n, uint64_t seed, uint64_t stream, float p, float scale) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = philox::bernoulli(seed, stream, static_cast<uint64_t>(i), p) ? 0.f : scale;
}

}  // namespace lowbit::cpu
