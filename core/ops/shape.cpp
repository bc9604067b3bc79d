// pad and cat: outputs assembled by copying n-d boxes (kernels/cpu/shape.h); both work for any
// unpacked dtype. Their backward passes copy the same boxes back out of the gradient (slices).
#include "core/ops/shape.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/copy.h"
#include "kernels/cpu/shape.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/shape.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

int64_t elem_size(DType t) { return dtype_info(t).block_bytes; }

// Copies the box `box` from src (at src_origin) into dst (at dst_origin); both contiguous.
void copy_box(const Tensor& src, const Shape& src_origin, Tensor& dst, const Shape& dst_origin, const Shape& box,
              const char* op) {
  switch (dst.device().type) {
    case DeviceType::CPU:
      cpu::copy_box(src.raw_data(), src.shape().data(), src_origin.data(), dst.raw_data(), dst.shape().data(),
                    dst_origin.data(), box.data(), static_cast<int64_t>(box.size()), elem_size(dst.dtype()));
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::copy_box(src.raw_data(), src.shape().data(), src_origin.data(), dst.raw_data(), dst.shape().data(),
                     dst_origin.data(), box.data(), static_cast<int64_t>(box.size()), elem_size(dst.dtype()));
#else
      cuda_missing(op);
#endif
      break;
  }
}

void check_unpacked(const Tensor& t, const char* op) {
  LOWBIT_CHECK(t.dtype() != DType::b1, op, ": b1 tensors are packed along the innermost axis; unpack with "
               ".to(DType::f32) first (shape ", shape_str(t.shape()), ")");
}

}  // namespace

Tensor pad(const Tensor& x_in, const std::vector<std::pair<int64_t, int64_t>>& pads, float value) {
  check_unpacked(x_in, "pad");
  LOWBIT_CHECK(static_cast<int64_t>(pads.size()) == x_in.dim(), "pad: needs one (before, after) pair per axis: ",
               pads.size(), " given for x of shape ", shape_str(x_in.shape()));
  Shape before(pads.size()), out_shape = x_in.shape();
  for (size_t i = 0; i < pads.size(); ++i) {
    LOWBIT_CHECK(pads[i].first >= 0 && pads[i].second >= 0, "pad: negative padding (", pads[i].first, ", ",
                 pads[i].second, ") on axis ", i, " of x ", shape_str(x_in.shape()), "; use slice() to crop");
    before[i] = pads[i].first;
    out_shape[i] += pads[i].first + pads[i].second;
  }
  Tensor x = x_in.detach().contiguous();
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::fill(out.raw_data(), out.dtype(), out.numel(), value);
      copy_box(x, Shape(before.size(), 0), out, before, x.shape(), "pad");
      break;
    case DeviceType::CUDA: {  // one pass: every output element written once
#if LOWBIT_WITH_CUDA
      uint64_t fill_elem = 0;  // the value converted to out's dtype on the host
      cpu::convert(&value, DType::f32, &fill_elem, out.dtype(), 1);
      cuda::pad(x.raw_data(), x.shape().data(), out.raw_data(), out.shape().data(), before.data(), x.dim(),
                elem_size(out.dtype()), &fill_elem);
#else
      cuda_missing("pad");
#endif
      break;
    }
  }
  if (needs_grad({&x_in})) {
    Shape in_shape = x.shape();
    record(out, "pad", {x_in}, [in_shape, before](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(in_shape, DType::f32, g.device());
      copy_box(g, before, gx, Shape(before.size(), 0), in_shape, "pad backward");
      return Grads{gx};
    });
  }
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t axis) {
  LOWBIT_CHECK(!tensors.empty(), "cat: needs at least one tensor");
  const Tensor& first = tensors[0];
  check_unpacked(first, "cat");
  LOWBIT_CHECK(first.dim() > 0, "cat: cannot concatenate scalars (tensor 0 has shape [])");
  const int64_t a = normalize_axis(axis, first.dim(), "cat");
  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(a)] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    LOWBIT_CHECK(t.dtype() == first.dtype(), "cat: tensor ", i, " has dtype ", dtype_name(t.dtype()),
                 " but tensor 0 has ", dtype_name(first.dtype()));
    check_same_device(first, t, "cat");
    LOWBIT_CHECK(t.dim() == first.dim(), "cat: tensor ", i, " has rank ", t.dim(), " (shape ", shape_str(t.shape()),
                 ") but tensor 0 has rank ", first.dim(), " (shape ", shape_str(first.shape()), ")");
    for (int64_t d = 0; d < first.dim(); ++d)
      LOWBIT_CHECK(d == a || t.shape()[static_cast<size_t>(d)] == first.shape()[static_cast<size_t>(d)],
                   "cat: tensor ", i, " has shape ", shape_str(t.shape()), ", tensor 0 has ", shape_str(first.shape()),
                   "; they may differ only on the concatenation axis ", a);
    out_shape[static_cast<size_t>(a)] += t.shape()[static_cast<size_t>(a)];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  std::vector<Shape> origins;  // where each input sits in the output
  Shape origin(out_shape.size(), 0);
  for (const Tensor& t : tensors) {
    Tensor tc = t.detach().contiguous();
    origins.push_back(origin);
    copy_box(tc, Shape(origin.size(), 0), out, origin, tc.shape(), "cat");
    origin[static_cast<size_t>(a)] += t.shape()[static_cast<size_t>(a)];
  }
  if (needs_grad(tensors)) {
    std::vector<Shape> shapes;
    std::vector<bool> wanted;
    for (const Tensor& t : tensors) {
      shapes.push_back(t.shape());
      wanted.push_back(t.requires_grad());
    }
    record(out, "cat", tensors, [shapes, origins, wanted](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Grads grads(shapes.size());
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (!wanted[i]) continue;
        grads[i] = Tensor::empty(shapes[i], DType::f32, g.device());
        copy_box(g, origins[i], grads[i], Shape(shapes[i].size(), 0), shapes[i], "cat backward");
      }
      return grads;
    });
  }
  return out;
}

}  // namespace lowbit
