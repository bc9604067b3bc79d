// copy_box: one memcpy per innermost row of the box (box[rank-1] elements), the row offsets in
// src and dst stepped by an odometer over the outer axes. Pure data movement: reads and writes
// each box element once (2·elem_size bytes per element).
#include "kernels/cpu/shape.h"

#include <cstring>
#include <vector>

#include "kernels/shape_math.h"

namespace lowbit::cpu {

void copy_box(const void* src, const int64_t* src_shape, const int64_t* src_origin, void* dst,
              const int64_t* dst_shape, const int64_t* dst_origin, const int64_t* box, int64_t rank,
              int64_t elem_size) {
  const auto* s = static_cast<const char*>(src);
  auto* d = static_cast<char*>(dst);
  if (rank == 0) {
    std::memcpy(d, s, static_cast<size_t>(elem_size));
    return;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (box[i] == 0) return;
  std::vector<int64_t> ss(static_cast<size_t>(rank)), ds(static_cast<size_t>(rank));
  row_major_strides(src_shape, rank, ss.data());
  row_major_strides(dst_shape, rank, ds.data());
  int64_t s_off = flat_offset(src_origin, ss.data(), rank), d_off = flat_offset(dst_origin, ds.data(), rank);
  auto row_bytes = static_cast<size_t>(box[rank - 1] * elem_size);
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);  // position within the box (outer axes)
  while (true) {
    std::memcpy(d + d_off * elem_size, s + s_off * elem_size, row_bytes);
    int64_t a = rank - 2;
    for (; a >= 0; --a) {
      auto k = static_cast<size_t>(a);
      if (++idx[k] < box[a]) {
        s_off += ss[k];
        d_off += ds[k];
        break;
      }
      s_off -= (box[a] - 1) * ss[k];
      d_off -= (box[a] - 1) * ds[k];
      idx[k] = 0;
    }
    if (a < 0) return;
  }
}

}  // namespace lowbit::cpu
