// Reductions: sum/max/min run as kernels; mean, var and std are composed from them (so their
// gradients come from the composing ops). argmax returns i32 indices along one axis.
#include "core/ops/reduce.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "kernels/cpu/reduce.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/reduce.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

struct ReducePlan {
  std::vector<bool> reduced;  // per input axis
  Shape keep_shape;           // output shape with reduced axes kept as 1
  Shape out_shape;            // final output shape (keepdim or not)
  Shape out_strides;          // per input axis: stride in the output, 0 if reduced
  int64_t count = 1;          // elements reduced into each output
};

ReducePlan plan_reduce(const Tensor& x, const Axes& axes, bool keepdim, const char* op) {
  ReducePlan p;
  int64_t rank = x.dim();
  p.reduced.assign(static_cast<size_t>(rank), axes.empty());
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, rank, op);
    LOWBIT_CHECK(!p.reduced[static_cast<size_t>(n)], op, ": axis ", a, " listed twice");
    p.reduced[static_cast<size_t>(n)] = true;
  }
  for (int64_t d = 0; d < rank; ++d) {
    bool r = p.reduced[static_cast<size_t>(d)];
    int64_t size = x.shape()[static_cast<size_t>(d)];
    p.keep_shape.push_back(r ? 1 : size);
    if (!r || keepdim) p.out_shape.push_back(r ? 1 : size);
    if (r) p.count *= size;
  }
  Shape keep_strides = contiguous_strides(p.keep_shape);
  for (int64_t d = 0; d < rank; ++d) p.out_strides.push_back(p.reduced[static_cast<size_t>(d)] ? 0 : keep_strides[static_cast<size_t>(d)]);
  return p;
}

// The flat input index (int64) of each max/min winner, kept on the tensor's device for the
// backward and argmax. There is no i64 dtype: the indices live in an i32 tensor of shape [n, 2]
// whose storage (allocated at offset 0, 64-byte aligned or better) is read as int64_t.
Tensor empty_arg(int64_t n, Device device) { return Tensor::empty({n, 2}, DType::i32, device); }
int64_t* arg_data(const Tensor& arg) { return static_cast<int64_t*>(arg.raw_data()); }

// Runs the kernel; for max/min, `arg` (if not null) receives the winners' flat input indices.
Tensor reduce_raw(cpu::ReduceOp op, const Tensor& x, const ReducePlan& p, Tensor* arg, const char* name) {
  LOWBIT_CHECK(x.dtype() == DType::f32, name, ": expects f32, got ", dtype_name(x.dtype()));
  if (op != cpu::ReduceOp::sum)
    LOWBIT_CHECK(p.count > 0, name, ": cannot reduce an empty axis (shape ", shape_str(x.shape()), ")");
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(p.out_shape, DType::f32, x.device());
  if (arg) *arg = empty_arg(out.numel(), x.device());
  int64_t* argp = arg ? arg_data(*arg) : nullptr;
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::reduce(op, xc.data<float>(), xc.shape().data(), xc.dim(), p.out_strides.data(), out.data<float>(),
                  out.numel(), argp);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::reduce(op, xc.data<float>(), xc.shape().data(), xc.dim(), p.out_strides.data(), out.data<float>(),
                   out.numel(), argp);
      break;
#else
      cuda_missing(name);
#endif
  }
  return out;
}

Tensor extreme(cpu::ReduceOp op, const Tensor& x, const Axes& axes, bool keepdim, const char* name) {
  ReducePlan p = plan_reduce(x, axes, keepdim, name);
  Tensor arg;
  Tensor out = reduce_raw(op, x, p, &arg, name);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    record(out, name, {x}, [in_shape, arg, name](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::zeros(in_shape, DType::f32, g.device());
      const int64_t* ap = arg_data(arg);
      const int64_t n = g.numel();
      switch (g.device().type) {
        case DeviceType::CPU: {  // the whole gradient goes to the first extreme element
          const float* gp = g.data<float>();
          float* gxp = gx.data<float>();
          for (int64_t o = 0; o < n; ++o) gxp[ap[o]] += gp[o];
          break;
        }
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::scatter_to_arg(g.data<float>(), ap, gx.data<float>(), n);
          break;
#else
          cuda_missing(name);
#endif
      }
      return Grads{gx};
    });
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& axes, bool keepdim) {
  ReducePlan p = plan_reduce(x, axes, keepdim, "sum");
  Tensor out = reduce_raw(cpu::ReduceOp::sum, x, p, nullptr, "sum");
  if (needs_grad({&x})) {
    Shape in_shape = x.shape(), keep = p.keep_shape;
    record(out, "sum", {x}, [in_shape, keep](const Tensor& g) {
      return Grads{add(Tensor::zeros(in_shape, DType::f32, g.device()), g.reshape(keep))};
    });
  }
  return out;
}

Tensor mean(const Tensor& x, const Axes& axes, bool keepdim) {
  ReducePlan p = plan_reduce(x, axes, keepdim, "mean");
  LOWBIT_CHECK(p.count > 0, "mean: reducing an empty axis (shape ", shape_str(x.shape()), ")");
  return mul(sum(x, axes, keepdim), 1.0f / static_cast<float>(p.count));
}

Tensor max(const Tensor& x, const Axes& axes, bool keepdim) { return extreme(cpu::ReduceOp::max, x, axes, keepdim, "max"); }
Tensor min(const Tensor& x, const Axes& axes, bool keepdim) { return extreme(cpu::ReduceOp::min, x, axes, keepdim, "min"); }

Tensor var(const Tensor& x, const Axes& axes, bool unbiased, bool keepdim) {
  ReducePlan p = plan_reduce(x, axes, keepdim, "var");
  int64_t dof = p.count - (unbiased ? 1 : 0);
  LOWBIT_CHECK(dof > 0, "var: ", p.count, " element(s) per output leave no degrees of freedom", unbiased ? " (unbiased)" : "");
  Tensor centered = sub(x, mean(x, axes, true));
  return mul(sum(mul(centered, centered), axes, keepdim), 1.0f / static_cast<float>(dof));
}

Tensor std(const Tensor& x, const Axes& axes, bool unbiased, bool keepdim) { return sqrt(var(x, axes, unbiased, keepdim)); }

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  int64_t a = normalize_axis(axis, x.dim(), "argmax");
  ReducePlan p = plan_reduce(x, {a}, keepdim, "argmax");
  Tensor arg;
  NoGradGuard no_grad;
  reduce_raw(cpu::ReduceOp::max, x, p, &arg, "argmax");
  int64_t stride = contiguous_strides(x.shape())[static_cast<size_t>(a)], size = x.shape()[static_cast<size_t>(a)];
  Tensor out = Tensor::empty(p.out_shape, DType::i32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: {
      int32_t* idx = out.data<int32_t>();
      const int64_t* ap = arg_data(arg);
      for (int64_t o = 0; o < out.numel(); ++o) idx[o] = static_cast<int32_t>((ap[o] / stride) % size);
      break;
    }
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::arg_to_axis_index(arg_data(arg), out.data<int32_t>(), out.numel(), stride, size);
      break;
#else
      cuda_missing("argmax");
#endif
  }
  return out;
}

}  // namespace lowbit
