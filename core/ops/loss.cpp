// softmax / log_softmax along any axis (viewed as [outer, K, inner], no transposes) and fused
// cross-entropy: the forward pass also writes the gradient (softmax − target)/N, which the
// backward node scales by the incoming scalar gradient.
#include "core/ops/loss.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "kernels/cpu/loss.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/loss.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

struct AxisView {
  int64_t outer = 1, k = 1, inner = 1;
};

AxisView axis_view(const Shape& shape, int64_t axis) {
  AxisView v;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    int64_t s = shape[static_cast<size_t>(d)];
    if (d < axis) v.outer *= s;
    else if (d == axis) v.k = s;
    else v.inner *= s;
  }
  return v;
}

Tensor softmax_impl(const Tensor& x_in, int64_t axis, bool log, const char* name) {
  check_dtype(x_in, DType::f32, name, "x");
  LOWBIT_CHECK(x_in.dim() > 0, name, ": x must have at least one axis, got a scalar");
  AxisView v = axis_view(x_in.shape(), normalize_axis(axis, x_in.dim(), name));
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::softmax_forward(x.data<float>(), v.outer, v.k, v.inner, log, y.data<float>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::softmax_forward(x.data<float>(), v.outer, v.k, v.inner, log, y.data<float>());
#else
      cuda_missing(name);
#endif
      break;
  }
  if (needs_grad({&x_in})) {
    Tensor ys = y.detach();
    record(y, name, {x_in}, [ys, v, log, name](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(ys.shape(), DType::f32, ys.device());
      switch (ys.device().type) {
        case DeviceType::CPU:
          cpu::softmax_backward(ys.data<float>(), g.data<float>(), v.outer, v.k, v.inner, log, gx.data<float>());
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::softmax_backward(ys.data<float>(), g.data<float>(), v.outer, v.k, v.inner, log, gx.data<float>());
#else
          cuda_missing(name);
#endif
          break;
      }
      return Grads{gx};
    });
  }
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true, "log_softmax"); }

Tensor cross_entropy(const Tensor& logits_in, const Tensor& labels_in, float label_smoothing) {
  check_dtype(logits_in, DType::f32, "cross_entropy", "logits");
  check_dtype(labels_in, DType::i32, "cross_entropy", "labels");
  check_same_device(logits_in, labels_in, "cross_entropy");
  LOWBIT_CHECK(logits_in.dim() == 2, "cross_entropy: logits must be [N, K], got shape ", shape_str(logits_in.shape()));
  const int64_t n = logits_in.shape()[0], k = logits_in.shape()[1];
  LOWBIT_CHECK(labels_in.shape() == Shape{n}, "cross_entropy: labels must be [N] = [", n, "] for logits ",
               shape_str(logits_in.shape()), ", got ", shape_str(labels_in.shape()));
  LOWBIT_CHECK(n > 0 && k > 0, "cross_entropy: empty batch or no classes (logits ", shape_str(logits_in.shape()), ")");
  LOWBIT_CHECK(label_smoothing >= 0.f && label_smoothing <= 1.f, "cross_entropy: label_smoothing must be in [0, 1], got ",
               label_smoothing);
  Tensor logits = logits_in.contiguous(), labels = labels_in.contiguous();
  Tensor loss = Tensor::empty({}, DType::f32, logits.device());
  bool want_grad = needs_grad({&logits_in});
  Tensor grad = want_grad ? Tensor::empty(logits.shape(), DType::f32, logits.device()) : Tensor();
  int64_t bad = -1;
  switch (logits.device().type) {
    case DeviceType::CPU:
      bad = cpu::cross_entropy_forward(logits.data<float>(), labels.data<int32_t>(), n, k, label_smoothing,
                                       loss.data<float>(), want_grad ? grad.data<float>() : nullptr);
      break;
    case DeviceType::CUDA:  // reads back the bad-label flag: the documented sync (kernels/cuda/loss.h)
#if LOWBIT_WITH_CUDA
      bad = cuda::cross_entropy_forward(logits.data<float>(), labels.data<int32_t>(), n, k, label_smoothing,
                                        loss.data<float>(), want_grad ? grad.data<float>() : nullptr);
#else
      cuda_missing("cross_entropy");
#endif
      break;
  }
  LOWBIT_CHECK(bad < 0, "cross_entropy: labels[", bad, "] = ", bad >= 0 ? labels.to_host<int32_t>()[static_cast<size_t>(bad)] : 0,
               " is outside [0, ", k, ") (logits ", shape_str(logits.shape()), ")");
  if (want_grad) {
    record(loss, "cross_entropy", {logits_in}, [grad](const Tensor& g) { return Grads{mul(grad, g)}; });
  }
  return loss;
}

}  // namespace lowbit
