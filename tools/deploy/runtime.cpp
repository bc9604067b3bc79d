// Deploy runtime: one core op per graph op.
#include "tools/deploy/runtime.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"
#include "core/ops/norm.h"
#include "core/ops/pool.h"
#include "kernels/bit_math.h"
#include "tools/deploy/act_quant.h"

namespace lowbit::deploy {
namespace {

// [N, ...] -> [N, F]. A b1 image is packed per pixel and its flattened rows pack all H·W·C
// signs in a row: the same words when C is a multiple of 32 (then the storage is shared), else
// repacked through f32.
Tensor flatten_batch(const Tensor& x) {
  if (x.dtype() != DType::b1) return x.reshape({x.size(0), -1});
  if (x.size(-1) % kBitsPerWord != 0 || !x.is_contiguous() || x.offset() != 0)
    return x.to(DType::f32).reshape({x.size(0), -1}).to(DType::b1);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.storage();
  impl->shape = {x.size(0), x.numel() / x.size(0)};
  impl->strides = contiguous_strides(impl->shape);
  impl->dtype = DType::b1;
  return Tensor(std::move(impl));
}

}  // namespace

Runtime::Runtime(Graph graph, Device device, XnorOptions options, MultibitOptions multibit)
    : graph_(std::move(graph)), device_(device), options_(options), multibit_(multibit) {
  check_graph(graph_, "deploy graph of " + graph_.model);
  for (const Op& op : graph_.ops) steps_.push_back(op.kind == OpKind::quantize ? quantize_step(op) : 0.f);
  for (Op& op : graph_.ops)
    for (auto& [role, t] : op.tensors) t = t.to(device_);
}

MultibitPath Runtime::multibit_path(size_t index) const {
  LOWBIT_CHECK(index < graph_.ops.size(), "deploy: op ", index, " of ", graph_.ops.size());
  const Op& op = graph_.ops[index];
  LOWBIT_CHECK(op.kind == OpKind::multibit_conv2d || op.kind == OpKind::multibit_linear, "deploy: op ", index, " '",
               op.name, "' is no multi-bit layer");
  if (multibit_.path != MultibitPath::automatic) return multibit_.path;
  CodeFormat fx = op.input_format;
  if (op.kind == OpKind::multibit_conv2d && fx.kind == CodeKind::binary) fx = CodeFormat::ternary();
  return multibit_auto_path(fx, op.weight_format, device_);
}

Tensor Runtime::forward(const Tensor& images) const {
  LOWBIT_CHECK(images.dtype() == DType::f32 && images.dim() == 4 && images.size(1) == graph_.height &&
                   images.size(2) == graph_.width && images.size(3) == graph_.channels,
               "deploy: the model takes f32 images [N, ", graph_.height, ", ", graph_.width, ", ", graph_.channels,
               "], got ", dtype_name(images.dtype()), " ", shape_str(images.shape()));
  LOWBIT_CHECK(images.device() == device_, "deploy: images are on ", images.device().str(), ", the model on ",
               device_.str());
  NoGradGuard no_grad;
  Tensor x = images;
  const std::vector<Op>& ops = graph_.ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    // A float layer's batch norm feeding a binary layer: one pass on the CPU (batch_norm_sign has
    // no CUDA kernel yet; it gives the same bits as the two ops).
    if (device_.is_cpu() && ops[i].kind == OpKind::batch_norm && i + 1 < ops.size() &&
        ops[i + 1].kind == OpKind::sign) {
      const Op& bn = ops[i++];
      x = batch_norm_sign(x, bn.tensor("weight"), bn.tensor("bias"), bn.tensor("mean"), bn.tensor("var"), bn.eps);
      continue;
    }
    x = run_op(i, x);
  }
  return x;
}

Tensor Runtime::run_op(size_t index, const Tensor& x) const {
  LOWBIT_CHECK(index < graph_.ops.size(), "deploy: op ", index, " of ", graph_.ops.size());
  const Op& op = graph_.ops[index];
  const Pool2dParams pool{op.kernel, op.kernel, op.stride, op.stride, op.padding, op.padding};
  switch (op.kind) {
    case OpKind::conv2d:
      return conv2d(x, op.tensor("weight"), op.tensor("bias"), {op.stride, op.stride, op.padding, op.padding, 1});
    case OpKind::linear: return linear(x, op.tensor("weight"), op.tensor("bias"));
    case OpKind::batch_norm:
      return batch_norm(x, op.tensor("weight"), op.tensor("bias"), op.tensor("mean"), op.tensor("var"), false, 0.1f,
                        op.eps);
    case OpKind::hardtanh: return hardtanh(x, op.lo, op.hi);
    case OpKind::relu: return relu(x);
    case OpKind::max_pool2d: return max_pool2d(x, pool);
    case OpKind::flatten: return flatten_batch(x);
    case OpKind::sign: return x.to(DType::b1);
    case OpKind::xnor_conv2d:
      return xnor_conv2d(x, op.tensor("weight"), op.stride, op.padding, op.xnor_epilogue(), options_);
    case OpKind::xnor_linear: return xnor_matmul(x, op.tensor("weight"), op.xnor_epilogue(), options_);
    case OpKind::binary_max_pool2d: return binary_max_pool2d(x, pool);
    case OpKind::int_max_pool2d:
      // Sums are integers far below 2^24, exact in f32.
      return max_pool2d(x.to(DType::f32), pool).to(DType::i32);
    case OpKind::epilogue: return xnor_epilogue(x, op.xnor_epilogue());
    case OpKind::quantize: return run_quantize(op, x, steps_[index]);
    case OpKind::multibit_conv2d:
      return xnor_epilogue(multibit_conv2d(x, op.input_format, op.tensor("weight"), op.weight_format, op.stride,
                                           op.padding, multibit_),
                           op.xnor_epilogue());
    case OpKind::multibit_linear:
      return xnor_epilogue(multibit_matmul(x, op.input_format, op.tensor("weight"), op.weight_format, multibit_),
                           op.xnor_epilogue());
  }
  LOWBIT_FAIL("deploy: op '", op.name, "' has an unknown kind");
}

}  // namespace lowbit::deploy
