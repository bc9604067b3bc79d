// Stand-alone binary-layer epilogue kernels (kernels/cuda/xnor_epilogue.h): grid-stride loops on
// the current stream; the threshold kernel gives each warp one 32-column output word at a time
// (one column per lane, __ballot_sync packs; columns past cols give the 0 padding bits).
#include "kernels/cuda/xnor_epilogue.h"

#include <cuda_runtime.h>

#include "kernels/bit_math.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/xnor_epilogue_math.h"

namespace lowbit::cuda {

namespace {

__global__ void affine_kernel(const int32_t* s, int64_t rows, int64_t cols, XnorEpilogueArgs ep) {
  const int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / cols, c = i % cols;
    if (ep.kind == XnorEpilogueArgs::Kind::affine)
      static_cast<float*>(ep.out)[r * ep.ldo + c] = affine_value(s[i], ep.scale[c], ep.bias ? ep.bias[c] : 0.f);
    else
      static_cast<int32_t*>(ep.out)[r * ep.ldo + c] = s[i];
  }
}

__global__ void threshold_kernel(const int32_t* s, int64_t rows, int64_t cols, XnorEpilogueArgs ep) {
  const int lane = threadIdx.x & 31;
  const int64_t words = packed_words(cols), total = rows * words;
  const int64_t warps = (int64_t{gridDim.x} * blockDim.x) >> 5;
  for (int64_t w = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) >> 5; w < total; w += warps) {
    const int64_t r = w / words, c = (w % words) * 32 + lane;
    const uint32_t bit = c < cols ? threshold_bit(s[r * cols + c], ep.threshold[c], ep.mode[c]) : 0u;
    const uint32_t bits = __ballot_sync(0xffffffffu, bit != 0);
    if (lane == 0) static_cast<uint32_t*>(ep.out)[r * ep.ldo + w % words] = bits;
  }
}

}  // namespace

void xnor_epilogue(const int32_t* s, int64_t rows, int64_t cols, const XnorEpilogueArgs& ep) {
  if (rows <= 0 || cols <= 0) return;
  if (ep.kind == XnorEpilogueArgs::Kind::threshold)
    threshold_kernel<<<stride_grid(rows * packed_words(cols) * 32), 256, 0, current_stream()>>>(s, rows, cols, ep);
  else
    affine_kernel<<<stride_grid(rows * cols), 256, 0, current_stream()>>>(s, rows, cols, ep);
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lowbit::cuda
