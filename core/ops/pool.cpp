// Pooling ops on NHWC images: argument checks, output geometry, dispatch, and backward nodes.
// max_pool2d saves the index of each window's first maximum (i32, iy·W + ix) for its backward.
#include "core/ops/pool.h"

#include <limits>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/window.h"
#include "kernels/cpu/pool.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/pool.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

cpu::PoolGeometry pool_geometry(const Tensor& x, const Pool2dParams& p, const char* op) {
  check_dtype(x, DType::f32, op, "x");
  LOWBIT_CHECK(x.dim() == 4, op, ": x must be an NHWC image batch [N, H, W, C], got shape ", shape_str(x.shape()));
  LOWBIT_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1, op, ": kernel must be at least 1x1, got ", p.kernel_h, "x",
               p.kernel_w);
  LOWBIT_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op, ": stride must be at least 1, got ", p.stride_h, "x",
               p.stride_w);
  LOWBIT_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h < p.kernel_h && p.pad_w < p.kernel_w, op, ": padding ",
               p.pad_h, "x", p.pad_w, " must be non-negative and smaller than the kernel ", p.kernel_h, "x",
               p.kernel_w, " (so every window sees the image)");
  const Shape& s = x.shape();
  LOWBIT_CHECK(s[1] >= 1 && s[2] >= 1, op, ": empty image (x ", shape_str(s), ")");
  LOWBIT_CHECK(s[1] + 2 * p.pad_h >= p.kernel_h && s[2] + 2 * p.pad_w >= p.kernel_w, op, ": kernel ", p.kernel_h,
               "x", p.kernel_w, " is larger than the padded input (x ", shape_str(s), ", padding ", p.pad_h, "x",
               p.pad_w, ")");
  LOWBIT_CHECK(s[1] * s[2] <= std::numeric_limits<int32_t>::max(), op, ": image too large for i32 indices (",
               shape_str(s), ")");
  return {s[0], s[1], s[2], s[3], window_out_size(s[1], p.kernel_h, p.stride_h, p.pad_h),
          window_out_size(s[2], p.kernel_w, p.stride_w, p.pad_w), p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
          p.pad_h, p.pad_w};
}

Shape input_shape(const cpu::PoolGeometry& g) { return {g.n, g.h, g.w, g.c}; }
Shape output_shape(const cpu::PoolGeometry& g) { return {g.n, g.oh, g.ow, g.c}; }

}  // namespace

Tensor max_pool2d(const Tensor& x_in, const Pool2dParams& params) {
  cpu::PoolGeometry geo = pool_geometry(x_in, params, "max_pool2d");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(output_shape(geo), DType::f32, x.device());
  Tensor arg = Tensor::empty(output_shape(geo), DType::i32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::max_pool2d_forward(x.data<float>(), geo, y.data<float>(), arg.data<int32_t>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::max_pool2d_forward(x.data<float>(), geo, y.data<float>(), arg.data<int32_t>());
#else
      cuda_missing("max_pool2d");
#endif
      break;
  }
  if (needs_grad({&x_in})) {
    record(y, "max_pool2d", {x_in}, [geo, arg](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(input_shape(geo), DType::f32, g.device());
      switch (g.device().type) {
        case DeviceType::CPU: cpu::max_pool2d_backward(g.data<float>(), arg.data<int32_t>(), geo, gx.data<float>()); break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::max_pool2d_backward(g.data<float>(), arg.data<int32_t>(), geo, gx.data<float>());
#else
          cuda_missing("max_pool2d backward");
#endif
          break;
      }
      return Grads{gx};
    });
  }
  return y;
}

Tensor avg_pool2d(const Tensor& x_in, const Pool2dParams& params, bool count_include_pad) {
  cpu::PoolGeometry geo = pool_geometry(x_in, params, "avg_pool2d");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(output_shape(geo), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::avg_pool2d_forward(x.data<float>(), geo, count_include_pad, y.data<float>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::avg_pool2d_forward(x.data<float>(), geo, count_include_pad, y.data<float>());
#else
      cuda_missing("avg_pool2d");
#endif
      break;
  }
  if (needs_grad({&x_in})) {
    record(y, "avg_pool2d", {x_in}, [geo, count_include_pad](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(input_shape(geo), DType::f32, g.device());
      switch (g.device().type) {
        case DeviceType::CPU: cpu::avg_pool2d_backward(g.data<float>(), geo, count_include_pad, gx.data<float>()); break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::avg_pool2d_backward(g.data<float>(), geo, count_include_pad, gx.data<float>());
#else
          cuda_missing("avg_pool2d backward");
#endif
          break;
      }
      return Grads{gx};
    });
  }
  return y;
}

Tensor global_avg_pool(const Tensor& x_in) {
  check_dtype(x_in, DType::f32, "global_avg_pool", "x");
  LOWBIT_CHECK(x_in.dim() == 4, "global_avg_pool: x must be an NHWC image batch [N, H, W, C], got shape ",
               shape_str(x_in.shape()));
  const Shape s = x_in.shape();
  const int64_t n = s[0], hw = s[1] * s[2], c = s[3];
  LOWBIT_CHECK(hw > 0, "global_avg_pool: empty image (x ", shape_str(s), ")");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty({n, c}, DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::global_avg_pool_forward(x.data<float>(), n, hw, c, y.data<float>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::global_avg_pool_forward(x.data<float>(), n, hw, c, y.data<float>());
#else
      cuda_missing("global_avg_pool");
#endif
      break;
  }
  if (needs_grad({&x_in})) {
    record(y, "global_avg_pool", {x_in}, [s, n, hw, c](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(s, DType::f32, g.device());
      switch (g.device().type) {
        case DeviceType::CPU: cpu::global_avg_pool_backward(g.data<float>(), n, hw, c, gx.data<float>()); break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::global_avg_pool_backward(g.data<float>(), n, hw, c, gx.data<float>());
#else
          cuda_missing("global_avg_pool backward");
#endif
          break;
      }
      return Grads{gx};
    });
  }
  return y;
}

}  // namespace lowbit
