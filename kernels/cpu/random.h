// CPU random fills from the Philox stream (kernels/philox.h): element i of draw (seed, stream).
#pragma once

#include <cstdint>

namespace lowbit::cpu {

void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t stream);
void fill_normal(float* dst, int64_t n, uint64_t seed, uint64_t stream);
void fill_randint(int32_t* dst, int64_t n, uint64_t seed, uint64_t stream, int64_t low, int64_t high);
// mask[i] = keep ? scale : 0 with keep = uniform >= p (dropout).
void fill_dropout_mask(float* dst, int64_t n, uint64_t seed, uint64_t stream, float p, float scale);

}  // namespace lowbit::cpu
