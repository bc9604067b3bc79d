// Views: reshape/view, permute/transpose, slice with step, (un)squeeze, flatten. They share the
// storage (reshape copies only when the strides cannot express the new shape) and record their
// backward: reshape back, inverse permutation, scatter into zeros.
#include <numeric>

#include "core/autograd.h"
#include "core/tensor.h"

namespace lowbit {

namespace {

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LOWBIT_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      LOWBIT_CHECK(shape[i] >= 0, "reshape: negative dimension in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    LOWBIT_CHECK(known > 0 && numel % known == 0, "reshape: cannot reshape ", shape_str(from), " into ",
                 shape_str(requested));
    shape[static_cast<size_t>(infer)] = numel / known;
  }
  LOWBIT_CHECK(shape_numel(shape) == numel, "reshape: cannot reshape ", shape_str(from), " (", numel,
               " elements) into ", shape_str(requested));
  return shape;
}

void check_not_packed(const Tensor& t, const char* op) {
  LOWBIT_CHECK(t.dtype() != DType::b1 || t.dim() == 0, op,
               ": b1 tensors are packed along the innermost axis; unpack with .to(DType::f32) first");
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), this->shape());
  LOWBIT_CHECK(is_contiguous(), "view(): needs a contiguous tensor (shape ", shape_str(this->shape()),
               "); use reshape() or contiguous()");
  if (dtype() == DType::b1)
    LOWBIT_CHECK(!shape.empty() && !this->shape().empty() && shape.back() == this->shape().back(),
                 "view(): a b1 tensor keeps its innermost (packed) axis");
  Tensor out = make_view(*this, shape, contiguous_strides(shape), offset());
  if (needs_grad({this})) {
    Shape in_shape = this->shape();
    record(out, "view", {*this}, [in_shape](const Tensor& g) { return std::vector<Tensor>{g.reshape(in_shape)}; });
  }
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  if (is_contiguous()) return view(requested);
  return contiguous().view(requested);
}

Tensor Tensor::permute(const std::vector<int64_t>& perm) const {
  check_not_packed(*this, "permute");
  LOWBIT_CHECK(static_cast<int64_t>(perm.size()) == dim(), "permute: ", perm.size(), " axes given for a tensor of rank ",
               dim());
  Shape shape(perm.size()), strides(perm.size());
  std::vector<int64_t> inverse(perm.size(), -1);
  for (size_t i = 0; i < perm.size(); ++i) {
    int64_t a = normalize_axis(perm[i], dim(), "permute");
    LOWBIT_CHECK(inverse[static_cast<size_t>(a)] < 0, "permute: axis ", a, " appears twice");
    inverse[static_cast<size_t>(a)] = static_cast<int64_t>(i);
    shape[i] = this->shape()[static_cast<size_t>(a)];
    strides[i] = this->strides()[static_cast<size_t>(a)];
  }
  Tensor out = make_view(*this, shape, strides, offset());
  if (needs_grad({this}))
    record(out, "permute", {*this}, [inverse](const Tensor& g) { return std::vector<Tensor>{g.permute(inverse)}; });
  return out;
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  std::vector<int64_t> perm(static_cast<size_t>(dim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[static_cast<size_t>(normalize_axis(a, dim(), "transpose"))],
            perm[static_cast<size_t>(normalize_axis(b, dim(), "transpose"))]);
  return permute(perm);
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t stop, int64_t step) const {
  check_not_packed(*this, "slice");
  int64_t a = normalize_axis(axis, dim(), "slice");
  LOWBIT_CHECK(step > 0, "slice: step must be positive, got ", step);
  int64_t n = shape()[static_cast<size_t>(a)];
  auto clampi = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  int64_t lo = clampi(start), hi = clampi(stop);
  int64_t count = hi > lo ? (hi - lo + step - 1) / step : 0;
  Shape shape = this->shape(), strides = this->strides();
  shape[static_cast<size_t>(a)] = count;
  strides[static_cast<size_t>(a)] *= step;
  Tensor out = make_view(*this, shape, strides, offset() + lo * this->strides()[static_cast<size_t>(a)]);
  if (needs_grad({this})) {
    Shape in_shape = this->shape();
    record(out, "slice", {*this}, [in_shape, a, lo, hi, step](const Tensor& g) {
      Tensor full = Tensor::zeros(in_shape, DType::f32, g.device());
      full.slice(a, lo, hi, step).copy_(g);
      return std::vector<Tensor>{full};
    });
  }
  return out;
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  int64_t a = normalize_axis(axis, dim() + 1, "unsqueeze");
  Shape shape = this->shape();
  shape.insert(shape.begin() + a, 1);
  return reshape(shape);
}

Tensor Tensor::squeeze(int64_t axis) const {
  int64_t a = normalize_axis(axis, dim(), "squeeze");
  LOWBIT_CHECK(shape()[static_cast<size_t>(a)] == 1, "squeeze: axis ", axis, " has size ",
               shape()[static_cast<size_t>(a)], ", not 1");
  Shape shape = this->shape();
  shape.erase(shape.begin() + a);
  return reshape(shape);
}

Tensor Tensor::flatten(int64_t start_axis, int64_t end_axis) const {
  if (dim() == 0) return reshape({1});
  int64_t s = normalize_axis(start_axis, dim(), "flatten"), e = normalize_axis(end_axis, dim(), "flatten");
  LOWBIT_CHECK(s <= e, "flatten: start axis ", start_axis, " is after end axis ", end_axis);
  Shape shape(this->shape().begin(), this->shape().begin() + s);
  int64_t m = 1;
  for (int64_t i = s; i <= e; ++i) m *= this->shape()[static_cast<size_t>(i)];
  shape.push_back(m);
  shape.insert(shape.end(), this->shape().begin() + e + 1, this->shape().end());
  return reshape(shape);
}

}  // namespace lowbit
