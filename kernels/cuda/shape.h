// CUDA kernels behind pad and cat (kernels/cuda/shape.cu): the twin of kernels/cpu/shape.h's
// copy_box, and a one-pass pad that writes every output element once (the source element inside
// the box, the fill value outside). Any element size of 1, 2, 4 or 8 bytes; rank <= 8; shapes and
// origins are host arrays, data pointers device memory; cuda::current_stream().
#pragma once

#include <cstdint>

namespace lowbit::cuda {

// dst[dst_origin + i] = src[src_origin + i] for every multi-index i in box (rank dims).
void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_origin, void* dst,
              const int64_t* dst_shape, const int64_t* dst_origin, const int64_t* box, int64_t rank,
              int64_t elem_size);

// dst (dst_shape) = fill everywhere except the box [before, before + src_shape), which holds src.
// fill_elem points to one element's bytes on the host (elem_size of them).
void pad(const void* src, const int64_t* src_shape, void* dst, const int64_t* dst_shape, const int64_t* before,
         int64_t rank, int64_t elem_size, const void* fill_elem);

}  // namespace lowbit::cuda
