// CPU kernel behind pad and cat (and their backward passes): copying an n-d box between two
// contiguous arrays of any element size. pad copies x into the padded output at `before`; cat
// copies each input into its place along the axis; their backward passes copy the same boxes
// back out of the gradient.
#pragma once

#include <cstdint>

namespace lowbit::cpu {

// dst[dst_origin + i] = src[src_origin + i] for every multi-index i in box (rank dims).
void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_origin, void* dst,
              const int64_t* dst_shape, const int64_t* dst_origin, const int64_t* box, int64_t rank,
              int64_t elem_size);

}  // namespace lowbit::cpu
