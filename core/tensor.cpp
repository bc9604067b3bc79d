// Tensor creation, properties, device/dtype conversion, printing, autograd entry points and
// in-place updates. Views are in core/ops/view.cpp.
#include "core/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/random.h"
#include "kernels/cpu/copy.h"
#include "kernels/cpu/random.h"
#include "kernels/cuda/runtime.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/copy.h"
#include "kernels/cuda/random.h"
#endif

namespace lowbit {

TensorImpl::~TensorImpl() = default;

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  LOWBIT_CHECK(a >= 0 && a < rank, what, ": axis ", axis, " is out of range for a tensor of rank ", rank);
  return a;
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  LOWBIT_CHECK(a.device() == b.device(), op, ": operands are on different devices (",
               a.device().str(), " and ", b.device().str(), "); move one with .to(device)");
}

void check_dtype(const Tensor& t, DType dtype, const char* op, const char* arg) {
  LOWBIT_CHECK(t.defined(), op, ": ", arg, " is an undefined (empty) Tensor");
  LOWBIT_CHECK(t.dtype() == dtype, op, ": ", arg, " must be ", dtype_name(dtype), ", got ",
               dtype_name(t.dtype()), " (shape ", shape_str(t.shape()), ")");
}

void check_rank(const Tensor& t, int64_t rank, const char* op, const char* arg) {
  LOWBIT_CHECK(t.dim() == rank, op, ": ", arg, " must have rank ", rank, ", got shape ",
               shape_str(t.shape()));
}

[[noreturn]] void cuda_missing(const char* op) {
  if (!cuda::built()) LOWBIT_FAIL(op, ": built without CUDA");
  LOWBIT_FAIL(op, ": no CUDA kernel yet (CPU only for now)");
}

namespace {
// Fills a contiguous tensor (any device, non-block dtype) with value converted to its dtype.
void fill_contiguous(const Tensor& t, float value) {
  switch (t.device().type) {
    case DeviceType::CPU: cpu::fill(t.raw_data(), t.dtype(), t.numel(), value); break;
    case DeviceType::CUDA: {
#if LOWBIT_WITH_CUDA
      uint32_t pattern = 0;  // the value encoded once on the host, exactly as the CPU fill does
      cpu::fill(&pattern, t.dtype(), 1, value);
      cuda::fill_pattern(t.raw_data(), t.numel(), dtype_info(t.dtype()).block_bytes, pattern);
#else
      cuda_missing("fill");
#endif
      break;
    }
  }
}
}  // namespace

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) LOWBIT_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(storage_bytes(dtype, shape), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, float value, DType dtype, Device device) {
  LOWBIT_CHECK(dtype != DType::b1, "full(): b1 tensors are made by packing, e.g. x.to(DType::b1)");
  Tensor t = empty(shape, dtype, device);
  fill_contiguous(t, value);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  if (dtype == DType::b1) {  // all +1
    Tensor t = empty(shape, dtype, device);
    switch (device.type) {
      case DeviceType::CPU: std::memset(t.raw_data(), 0, static_cast<size_t>(t.storage()->nbytes())); break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::zero_bytes(t.raw_data(), t.storage()->nbytes());
#else
        cuda_missing("zeros");
#endif
        break;
    }
    return t;
  }
  return full(shape, 0.f, dtype, device);
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.f, dtype, device); }

Tensor Tensor::arange(double start, double end, double step, DType dtype, Device device) {
  LOWBIT_CHECK(step != 0.0, "arange(): step must be nonzero");
  LOWBIT_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "arange(): start ", start, ", end ",
               end, " and step ", step, " must be finite");
  double count = std::ceil((end - start) / step);
  auto n = static_cast<int64_t>(count > 0 ? count : 0);
  if (dtype == DType::i32) {  // built directly: going through f32 would round values above 2^24
    std::vector<int32_t> ints(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ints[static_cast<size_t>(i)] = static_cast<int32_t>(std::llround(start + i * step));
    return from_vector(ints, {n}, device);
  }
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = static_cast<float>(start + i * step);
  Tensor t = from_vector(values, {n});
  if (dtype != DType::f32) t = t.to(dtype);
  return t.to(device);
}

namespace {
template <typename T>
Tensor from_host(const std::vector<T>& values, const Shape& shape, DType dtype, Device device) {
  LOWBIT_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector(): ",
               values.size(), " values do not fill shape ", shape_str(shape), " (",
               shape_numel(shape), " elements)");
  Tensor host = Tensor::empty(shape, dtype, Device::cpu());
  if (!values.empty()) std::memcpy(host.raw_data(), values.data(), values.size() * sizeof(T));
  return device.is_cpu() ? host : host.to(device);
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s, Device d) { return from_host(v, s, DType::f32, d); }
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s, Device d) { return from_host(v, s, DType::i32, d); }
Tensor Tensor::from_vector(const std::vector<uint8_t>& v, const Shape& s, Device d) { return from_host(v, s, DType::u8, d); }

Tensor Tensor::rand(const Shape& shape, Device device, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape, DType::f32, device);
  switch (device.type) {
    case DeviceType::CPU: cpu::fill_uniform(t.data<float>(), t.numel(), g.seed(), g.next_stream()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::fill_uniform(t.data<float>(), t.numel(), g.seed(), g.next_stream());
#else
      cuda_missing("rand");
#endif
      break;
  }
  return t;
}

Tensor Tensor::randn(const Shape& shape, Device device, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape, DType::f32, device);
  switch (device.type) {
    case DeviceType::CPU: cpu::fill_normal(t.data<float>(), t.numel(), g.seed(), g.next_stream()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::fill_normal(t.data<float>(), t.numel(), g.seed(), g.next_stream());
#else
      cuda_missing("randn");
#endif
      break;
  }
  return t;
}

Tensor Tensor::randint(int64_t low, int64_t high, const Shape& shape, Device device, Generator* gen) {
  LOWBIT_CHECK(low >= INT32_MIN && high <= int64_t{INT32_MAX} + 1, "randint(): [", low, ", ", high, ") does not fit i32");
  LOWBIT_CHECK(high > low, "randint(): need low < high, got [", low, ", ", high, ")");
  Generator& g = gen ? *gen : default_generator();
  Tensor t = empty(shape, DType::i32, device);
  switch (device.type) {
    case DeviceType::CPU: cpu::fill_randint(t.data<int32_t>(), t.numel(), g.seed(), g.next_stream(), low, high); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::fill_randint(t.data<int32_t>(), t.numel(), g.seed(), g.next_stream(), low, high);
#else
      cuda_missing("randint");
#endif
      break;
  }
  return t;
}

// ---------------------------------------------------------------- properties

int64_t Tensor::size(int64_t axis) const { return shape()[static_cast<size_t>(normalize_axis(axis, dim(), "size()"))]; }

bool Tensor::is_contiguous() const { return impl().strides == contiguous_strides(impl().shape) || numel() <= 1; }

void* Tensor::raw_data() const {
  const TensorImpl& i = impl();
  int64_t elem = dtype_info(i.dtype).block_elems == 1 ? dtype_info(i.dtype).block_bytes : 0;
  return static_cast<char*>(i.storage->data()) + i.offset * elem;
}

namespace {
template <typename T> bool dtype_matches(DType t);
template <> bool dtype_matches<float>(DType t) { return t == DType::f32; }
template <> bool dtype_matches<uint16_t>(DType t) { return t == DType::f16 || t == DType::bf16; }
template <> bool dtype_matches<int8_t>(DType t) { return t == DType::i8; }
template <> bool dtype_matches<int32_t>(DType t) { return t == DType::i32; }
template <> bool dtype_matches<uint8_t>(DType t) { return t == DType::u8; }
template <> bool dtype_matches<uint32_t>(DType t) { return t == DType::b1; }
}  // namespace

template <typename T>
T* Tensor::data() const {
  LOWBIT_CHECK(dtype_matches<T>(dtype()), "data<T>(): element type does not match the tensor's dtype ",
               dtype_name(dtype()));
  return static_cast<T*>(raw_data());
}
template LOWBIT_API float* Tensor::data<float>() const;
template LOWBIT_API uint16_t* Tensor::data<uint16_t>() const;
template LOWBIT_API int8_t* Tensor::data<int8_t>() const;
template LOWBIT_API int32_t* Tensor::data<int32_t>() const;
template LOWBIT_API uint8_t* Tensor::data<uint8_t>() const;
template LOWBIT_API uint32_t* Tensor::data<uint32_t>() const;

// ---------------------------------------------------------------- conversion

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), device);
  copy_bytes(out.raw_data(), device, src.raw_data(), src.device(), storage_bytes(dtype(), shape()));
  if (needs_grad({this})) {
    Device from = this->device();
    record(out, "to_device", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  }
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
#if !LOWBIT_WITH_CUDA
  if (device().is_cuda()) cuda_missing("to(dtype)");
#endif
  const bool on_cuda = device().is_cuda();
  Tensor src = contiguous();
  Tensor out = empty(shape(), target, device());
  if (target == DType::b1) {
    Tensor f = src.to(DType::f32);
    int64_t inner = dim() ? shape().back() : 1;
    int64_t rows = inner ? numel() / inner : 0;
#if LOWBIT_WITH_CUDA
    if (on_cuda) cuda::pack_signs(f.data<float>(), out.data<uint32_t>(), rows, inner);
#endif
    if (!on_cuda) cpu::pack_signs(f.data<float>(), out.data<uint32_t>(), rows, inner);
  } else if (dtype() == DType::b1) {
    Tensor f = target == DType::f32 ? out : empty(shape(), DType::f32, device());
    int64_t inner = dim() ? shape().back() : 1;
    int64_t rows = inner ? numel() / inner : 0;
#if LOWBIT_WITH_CUDA
    if (on_cuda) cuda::unpack_signs(src.data<uint32_t>(), f.data<float>(), rows, inner);
#endif
    if (!on_cuda) cpu::unpack_signs(src.data<uint32_t>(), f.data<float>(), rows, inner);
    if (target != DType::f32) out = f.to(target);
  } else {
#if LOWBIT_WITH_CUDA
    if (on_cuda) cuda::convert(src.raw_data(), dtype(), out.raw_data(), target, numel());
#endif
    if (!on_cuda) cpu::convert(src.raw_data(), dtype(), out.raw_data(), target, numel());
  }
  if (needs_grad({this}) && dtype_info(target).is_float && dtype_info(dtype()).is_float) {
    // A cast's gradient is the identity; gradients in the graph stay f32 (core/autograd.h).
    record(out, "to_dtype", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g.to(DType::f32)}; });
  }
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.detach().copy_(detach());
  if (needs_grad({this})) record(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

float Tensor::item() const {
  LOWBIT_CHECK(numel() == 1, "item(): needs a one-element tensor, got shape ", shape_str(shape()));
  return to_vector()[0];
}

std::vector<float> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).detach();
  if (host.dtype() != DType::f32) host = host.to(DType::f32);
  host = host.contiguous();
  const float* p = host.data<float>();
  return std::vector<float>(p, p + host.numel());
}

template <typename T>
std::vector<T> Tensor::to_host() const {
  Tensor host = to(Device::cpu()).detach().contiguous();
  const T* p = host.data<T>();
  return std::vector<T>(p, p + storage_bytes(dtype(), shape()) / static_cast<int64_t>(sizeof(T)));
}
template LOWBIT_API std::vector<float> Tensor::to_host<float>() const;
template LOWBIT_API std::vector<uint16_t> Tensor::to_host<uint16_t>() const;
template LOWBIT_API std::vector<int8_t> Tensor::to_host<int8_t>() const;
template LOWBIT_API std::vector<int32_t> Tensor::to_host<int32_t>() const;
template LOWBIT_API std::vector<uint8_t> Tensor::to_host<uint8_t>() const;
template LOWBIT_API std::vector<uint32_t> Tensor::to_host<uint32_t>() const;

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  std::vector<float> v = to_vector();
  os << "Tensor(shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype()) << ", device=" << device().str()
     << (requires_grad() ? ", requires_grad" : "") << ")\n";
  int64_t inner = dim() ? shape().back() : 1;
  const int64_t limit = 64;
  os << std::setprecision(6);
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()) && i < limit; ++i)
    os << (i % (inner ? inner : 1) == 0 ? (i ? "\n  " : "  ") : " ") << v[static_cast<size_t>(i)];
  if (static_cast<int64_t>(v.size()) > limit) os << " ... (" << v.size() << " values)";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---------------------------------------------------------------- autograd

bool Tensor::requires_grad() const { return impl().autograd && impl().autograd->requires_grad; }

Tensor& Tensor::requires_grad_(bool value) {
  LOWBIT_CHECK(is_leaf(), "requires_grad_(): only leaf tensors can change requires_grad; use detach()");
  LOWBIT_CHECK(!value || dtype_info(dtype()).is_float, "requires_grad_(): only float tensors can require grad, got ",
               dtype_name(dtype()));
  if (!impl().autograd) impl().autograd = std::make_unique<AutogradMeta>();
  impl().autograd->requires_grad = value;
  return *this;
}

bool Tensor::is_leaf() const { return !impl().autograd || !impl().autograd->grad_fn; }

Tensor Tensor::grad() const { return impl().autograd ? impl().autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& grad) const {
  if (!impl().autograd) impl().autograd = std::make_unique<AutogradMeta>();
  if (grad.defined())
    LOWBIT_CHECK(grad.shape() == shape(), "set_grad(): gradient shape ", shape_str(grad.shape()),
                 " does not match tensor shape ", shape_str(shape()));
  impl().autograd->grad = grad;
}

void Tensor::zero_grad() const {
  if (impl().autograd) impl().autograd->grad = Tensor();
}

std::shared_ptr<Node> Tensor::grad_fn() const { return impl().autograd ? impl().autograd->grad_fn : nullptr; }

void Tensor::backward(const Tensor& grad, bool retain_graph) const { run_backward(*this, grad, retain_graph); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

// ---------------------------------------------------------------- in-place

namespace {
void check_inplace(const Tensor& t, const char* op) {
  LOWBIT_CHECK(!(grad_enabled() && t.requires_grad()), op, ": in-place update of a tensor that requires grad (shape ",
               shape_str(t.shape()), "); do it under NoGradGuard or on .detach()");
}
}  // namespace

Tensor& Tensor::fill_(float value) {
  check_inplace(*this, "fill_");
  LOWBIT_CHECK(dtype() != DType::b1, "fill_(): not defined for b1 tensors");
  if (is_contiguous()) {
    fill_contiguous(*this, value);
  } else {
    copy_(full(shape(), value, dtype(), device()));
  }
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src_in) {
  check_inplace(*this, "copy_");
  LOWBIT_CHECK(src_in.shape() == shape(), "copy_(): source shape ", shape_str(src_in.shape()),
               " does not match destination shape ", shape_str(shape()));
  Tensor src = src_in.detach();
  if (src.storage() == storage()) src = src.clone();  // source and destination may overlap
  if (src.dtype() != dtype()) src = src.to(dtype());
  if (src.device() != device()) src = src.to(device());
  if (dtype() == DType::b1 || (is_contiguous() && src.is_contiguous())) {
    LOWBIT_CHECK(dtype() != DType::b1 || (is_contiguous() && src.is_contiguous()), "copy_(): b1 views must be contiguous");
    copy_bytes(raw_data(), device(), src.raw_data(), device(), storage_bytes(dtype(), shape()));
    return *this;
  }
  switch (device().type) {
    case DeviceType::CPU:
      cpu::copy_strided(raw_data(), strides().data(), src.raw_data(), src.strides().data(), shape().data(), dim(),
                        dtype_info(dtype()).block_bytes);
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::copy_strided(raw_data(), strides().data(), src.raw_data(), src.strides().data(), shape().data(), dim(),
                         dtype_info(dtype()).block_bytes);
#else
      cuda_missing("copy_ (strided)");
#endif
      break;
  }
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  check_inplace(*this, "add_");
  LOWBIT_CHECK(other.shape() == shape(), "add_(): shape ", shape_str(other.shape()), " does not match ",
               shape_str(shape()));
  NoGradGuard no_grad;
  Tensor sum = add(detach(), alpha == 1.f ? other.detach() : mul(other.detach(), alpha));
  return copy_(sum);
}

Tensor& Tensor::mul_(float factor) {
  check_inplace(*this, "mul_");
  NoGradGuard no_grad;
  return copy_(mul(detach(), factor));
}

}  // namespace lowbit
