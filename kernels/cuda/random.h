// CUDA random fills from the Philox stream (kernels/philox.h), the twins of kernels/cpu/random.h:
// element i of draw (seed, stream) is the same pure function on both devices, so uniform, randint
// and the dropout mask are bit-identical to the CPU and normal agrees within a few ulps (CUDA's
// logf/sinf/cosf). Device pointers; current stream; no host synchronization.
#pragma once

#include <cstdint>

namespace lowbit::cuda {

void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t stream);
void fill_normal(float* dst, int64_t n, uint64_t seed, uint64_t stream);
void fill_randint(int32_t* dst, int64_t n, uint64_t seed, uint64_t stream, int64_t low, int64_t high);
// mask[i] = keep ? scale : 0 with keep = !(uniform < p) (dropout).
void fill_dropout_mask(float* dst, int64_t n, uint64_t seed, uint64_t stream, float p, float scale);

}  // namespace lowbit::cuda
