// Tensor: a cheap handle (shared_ptr<TensorImpl>) to a view of a Storage: shape, strides (in
// elements), offset, dtype, and autograd data only when it requires grad. Creation, device and
// dtype conversion, views and autograd entry points live here; math ops are in core/ops/.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/export.h"
#include "core/storage.h"

namespace lowbit {

struct AutogradMeta;
class Node;
class Generator;

struct LOWBIT_API TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements (for b1: only contiguous tensors exist)
  int64_t offset = 0;
  DType dtype = DType::f32;
  std::unique_ptr<AutogradMeta> autograd;  // null unless the tensor takes part in autograd
  ~TensorImpl();
};

// Contiguous (row-major) strides for a shape.
LOWBIT_API Shape contiguous_strides(const Shape& shape);

class LOWBIT_API Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  // [start, end) by step, as f32 (or i32 with dtype).
  static Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::f32,
                       Device device = Device::cpu());
  // From host values; the vector's size must equal the shape's element count.
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  // A braced list is always f32: Tensor::from_vector({1, 2, 3}, {3}).
  static Tensor from_vector(std::initializer_list<float> values, const Shape& shape,
                            Device device = Device::cpu()) {
    return from_vector(std::vector<float>(values), shape, device);
  }
  static Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<uint8_t>& values, const Shape& shape,
                            Device device = Device::cpu());
  // Counter-based random numbers (Philox): one seed gives the same numbers on every device.
  static Tensor rand(const Shape& shape, Device device = Device::cpu(), Generator* gen = nullptr);
  static Tensor randn(const Shape& shape, Device device = Device::cpu(), Generator* gen = nullptr);
  static Tensor randint(int64_t low, int64_t high, const Shape& shape,
                        Device device = Device::cpu(), Generator* gen = nullptr);  // i32

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorImpl* unsafe_impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // Typed pointer to the first element (checks the dtype matches T).
  template <typename T> T* data() const;
  void* raw_data() const;

  // ---- conversion ----
  Tensor to(Device device) const;  // copy to another device (returns *this if already there)
  Tensor to(DType dtype) const;    // value conversion; b1 packs signs (x < 0 -> bit 1)
  Tensor contiguous() const;       // *this if already contiguous, else a differentiable copy
  Tensor clone() const;            // differentiable copy
  float item() const;              // the single element as float
  std::vector<float> to_vector() const;  // every element, as float, on the host
  template <typename T> std::vector<T> to_host() const;  // raw elements of dtype T
  std::string str() const;         // printed values with shape and dtype

  // ---- views (differentiable; share storage where possible) ----
  Tensor view(const Shape& shape) const;     // contiguous tensors only; one dim may be -1
  Tensor reshape(const Shape& shape) const;  // view when possible, else copy
  Tensor permute(const std::vector<int64_t>& perm) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t axis, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor unsqueeze(int64_t axis) const;
  Tensor squeeze(int64_t axis) const;
  Tensor flatten(int64_t start_axis = 0, int64_t end_axis = -1) const;

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool value = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // accumulated gradient of a leaf (undefined until a backward reaches it)
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the accumulated gradient
  std::shared_ptr<Node> grad_fn() const;
  // Backpropagates from this tensor. Without `grad` the tensor must hold one element.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same storage, no autograd history

  // ---- in-place updates (not recorded by autograd; refused on tensors that need grad while
  //      grad mode is on, as they would corrupt the graph) ----
  Tensor& fill_(float value);
  Tensor& zero_() { return fill_(0.0f); }
  Tensor& copy_(const Tensor& src);                     // same shape; any device/dtype
  Tensor& add_(const Tensor& other, float alpha = 1.f);  // this += alpha * other (same shape)
  Tensor& mul_(float factor);

 private:
  TensorImpl& impl() const {
    LOWBIT_CHECK(impl_ != nullptr, "use of an undefined (empty) Tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

LOWBIT_API std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Normalizes a possibly negative axis against a rank; throws naming `what` when out of range.
LOWBIT_API int64_t normalize_axis(int64_t axis, int64_t rank, const char* what);

// Checks used by ops; errors name the op and both operands' properties.
LOWBIT_API void check_same_device(const Tensor& a, const Tensor& b, const char* op);
LOWBIT_API void check_dtype(const Tensor& t, DType dtype, const char* op, const char* arg);
LOWBIT_API void check_rank(const Tensor& t, int64_t rank, const char* op, const char* arg);

}  // namespace lowbit
