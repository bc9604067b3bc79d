// Elementwise ops: dispatch, broadcasting, and backward passes (composed from forward ops;
// broadcast gradients are summed back with sum_to).
#include "core/ops/elementwise.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/reduce.h"
#include "kernels/cpu/elementwise.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

void check_f32(const Tensor& t, const char* op) {
  LOWBIT_CHECK(t.dtype() == DType::f32, op, ": expects f32 operands, got ", dtype_name(t.dtype()), " (shape ",
               shape_str(t.shape()), ")");
}

// Both operands of a binary op must be f32; the message names both (dtype and shape).
void check_f32_pair(const Tensor& a, const Tensor& b, const char* op) {
  LOWBIT_CHECK(a.dtype() == DType::f32 && b.dtype() == DType::f32, op, ": expects f32 operands, got ",
               dtype_name(a.dtype()), " ", shape_str(a.shape()), " and ", dtype_name(b.dtype()), " ",
               shape_str(b.shape()));
}

// Strides of a contiguous tensor of `shape` seen through the broadcast `out` shape.
Shape broadcast_strides(const Shape& shape, const Shape& out) {
  Shape strides(out.size(), 0);
  Shape own = contiguous_strides(shape);
  size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) strides[lead + i] = shape[i] == 1 ? 0 : own[i];
  return strides;
}

Tensor unary(UnaryOp op, const Tensor& x_in, const char* name, float a = 0.f, float b = 0.f) {
  check_f32(x_in, name);
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::unary_forward(op, x.data<float>(), y.data<float>(), x.numel(), a, b); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::unary_forward(op, x.data<float>(), y.data<float>(), x.numel(), a, b);
      break;
#else
      cuda_missing(name);
#endif
  }
  if (needs_grad({&x_in})) {
    Tensor xs = x.detach(), ys = y.detach();
    record(y, name, {x_in}, [op, xs, ys, a, b, name](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor gx = Tensor::empty(xs.shape(), DType::f32, xs.device());
      switch (xs.device().type) {
        case DeviceType::CPU:
          cpu::unary_backward(op, xs.data<float>(), ys.data<float>(), g.data<float>(), gx.data<float>(), xs.numel(), a,
                              b);
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          cuda::unary_backward(op, xs.data<float>(), ys.data<float>(), g.data<float>(), gx.data<float>(), xs.numel(),
                               a, b);
          break;
#else
          cuda_missing(name);
#endif
      }
      return Grads{gx};
    });
  }
  return y;
}

// The checked, contiguous operands of a broadcasting binary op, the output shape and each
// operand's strides through it (shared by binary_raw and compare_op).
struct BroadcastPair {
  Tensor a, b;
  Shape out_shape, sa, sb;
};

BroadcastPair broadcast_pair(const Tensor& a_in, const Tensor& b_in, const char* name) {
  check_f32_pair(a_in, b_in, name);
  check_same_device(a_in, b_in, name);
  BroadcastPair p;
  p.out_shape = broadcast_shapes(a_in.shape(), b_in.shape(), name);
  p.a = a_in.contiguous();
  p.b = b_in.contiguous();
  p.sa = broadcast_strides(p.a.shape(), p.out_shape);
  p.sb = broadcast_strides(p.b.shape(), p.out_shape);
  return p;
}

Tensor binary_raw(BinaryOp op, const Tensor& a_in, const Tensor& b_in, const char* name) {
  auto [a, b, out_shape, sa, sb] = broadcast_pair(a_in, b_in, name);
  Tensor out = Tensor::empty(out_shape, DType::f32, a.device());
  switch (a.device().type) {
    case DeviceType::CPU:
      cpu::binary(op, {a.data<float>(), sa.data()}, {b.data<float>(), sb.data()}, out.data<float>(), out_shape.data(),
                  static_cast<int64_t>(out_shape.size()));
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::binary(op, a.data<float>(), sa.data(), b.data<float>(), sb.data(), out.data<float>(), out_shape.data(),
                   static_cast<int64_t>(out_shape.size()));
      break;
#else
      cuda_missing(name);
#endif
  }
  return out;
}

Tensor compare_op(CompareOp op, const Tensor& a_in, const Tensor& b_in, const char* name) {
  auto [a, b, out_shape, sa, sb] = broadcast_pair(a_in, b_in, name);
  Tensor out = Tensor::empty(out_shape, DType::u8, a.device());
  switch (a.device().type) {
    case DeviceType::CPU:
      cpu::compare(op, {a.data<float>(), sa.data()}, {b.data<float>(), sb.data()}, out.data<uint8_t>(),
                   out_shape.data(), static_cast<int64_t>(out_shape.size()));
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::compare(op, a.data<float>(), sa.data(), b.data<float>(), sb.data(), out.data<uint8_t>(), out_shape.data(),
                    static_cast<int64_t>(out_shape.size()));
      break;
#else
      cuda_missing(name);
#endif
  }
  return out;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    LOWBIT_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                 " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  size_t lead = g.shape().size() - shape.size();
  Axes axes;
  for (size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(static_cast<int64_t>(i));
  return sum(g, axes, true).reshape(shape);
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::add, a, b, "add");
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "add", {a, b}, [sa, sb](const Tensor& g) { return Grads{sum_to(g, sa), sum_to(g, sb)}; });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::sub, a, b, "sub");
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "sub", {a, b}, [sa, sb](const Tensor& g) { return Grads{sum_to(g, sa), neg(sum_to(g, sb))}; });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::mul, a, b, "mul");
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    record(out, "mul", {a, b}, [ad, bd, ga, gb](const Tensor& g) {
      return Grads{ga ? sum_to(mul(g, bd), ad.shape()) : Tensor(), gb ? sum_to(mul(g, ad), bd.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::div, a, b, "div");
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool gb = b.requires_grad();
    record(out, "div", {a, b}, [ad, bd, gb](const Tensor& g) {
      Tensor ga = sum_to(div(g, bd), ad.shape());
      Tensor gbv = gb ? sum_to(neg(div(mul(g, ad), mul(bd, bd))), bd.shape()) : Tensor();
      return Grads{ga, gbv};
    });
  }
  return out;
}

Tensor add(const Tensor& a, float s) { return unary(UnaryOp::add_scalar, a, "add_scalar", s); }
Tensor mul(const Tensor& a, float s) { return unary(UnaryOp::mul_scalar, a, "mul_scalar", s); }
Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, x, "neg"); }
Tensor pow(const Tensor& x, float exponent) { return unary(UnaryOp::pow, x, "pow", exponent); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, x, "exp"); }
Tensor log(const Tensor& x) { return unary(UnaryOp::log, x, "log"); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, x, "sqrt"); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, x, "abs"); }
Tensor sign(const Tensor& x) { return unary(UnaryOp::sign, x, "sign"); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x, "relu"); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, x, "tanh"); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, x, "sigmoid"); }

Tensor clamp(const Tensor& x, float lo, float hi) {
  LOWBIT_CHECK(lo <= hi, "clamp: lower bound ", lo, " is above upper bound ", hi);
  return unary(UnaryOp::clamp, x, "clamp", lo, hi);
}
Tensor hardtanh(const Tensor& x, float lo, float hi) {
  LOWBIT_CHECK(lo <= hi, "hardtanh: lower bound ", lo, " is above upper bound ", hi);
  return unary(UnaryOp::clamp, x, "hardtanh", lo, hi);
}

Tensor where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
  check_dtype(cond_in, DType::u8, "where", "cond");
  check_f32_pair(a_in, b_in, "where");
  check_same_device(cond_in, a_in, "where");
  check_same_device(a_in, b_in, "where");
  Shape out_shape = broadcast_shapes(broadcast_shapes(cond_in.shape(), a_in.shape(), "where"), b_in.shape(), "where");
  Tensor c = cond_in.contiguous(), a = a_in.contiguous(), b = b_in.contiguous();
  Tensor out = Tensor::empty(out_shape, DType::f32, a.device());
  Shape sc = broadcast_strides(c.shape(), out_shape), sa = broadcast_strides(a.shape(), out_shape),
        sb = broadcast_strides(b.shape(), out_shape);
  switch (a.device().type) {
    case DeviceType::CPU:
      cpu::where({c.data<uint8_t>(), sc.data()}, {a.data<float>(), sa.data()}, {b.data<float>(), sb.data()},
                 out.data<float>(), out_shape.data(), static_cast<int64_t>(out_shape.size()));
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::where(c.data<uint8_t>(), sc.data(), a.data<float>(), sa.data(), b.data<float>(), sb.data(),
                  out.data<float>(), out_shape.data(), static_cast<int64_t>(out_shape.size()));
      break;
#else
      cuda_missing("where");
#endif
  }
  if (needs_grad({&a_in, &b_in})) {
    Tensor cd = c.detach();
    Shape sha = a_in.shape(), shb = b_in.shape();
    record(out, "where", {a_in, b_in}, [cd, sha, shb](const Tensor& g) {
      Tensor zero = Tensor::zeros({}, DType::f32, g.device());
      return Grads{sum_to(where(cd, g, zero), sha), sum_to(where(cd, zero, g), shb)};
    });
  }
  return out;
}

Tensor gt(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::gt, a, b, "gt"); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::lt, a, b, "lt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::ge, a, b, "ge"); }
Tensor le(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::le, a, b, "le"); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::eq, a, b, "eq"); }

}  // namespace lowbit
