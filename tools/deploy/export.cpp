// Export of a trained 1-bit model to a deploy graph (see export.h): a walk over the Sequential's
// layers that keeps the latest binary layer "pending" until the layer that reads its output says
// whether it needs signs (threshold epilogue) or floats (affine epilogue).
#include "tools/deploy/export.h"

#include <cxxabi.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <typeinfo>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/binary.h"
#include "kernels/xnor_epilogue_math.h"
#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "quant/qlayer.h"
#include "tools/deploy/act_quant.h"
#include "tools/deploy/weight_codes.h"

namespace lowbit::deploy {
namespace {

// Sums of a binary layer must stay exact in f32 (int_max_pool2d pools them as f32).
constexpr int64_t kMaxSumBits = int64_t{1} << 24;

bool is_sign_quantizer(const Quantizer& q) {
  const std::string& m = q.config().method;
  return q.bits() == 1 && (m == "bnn" || m == "xnor" || m == "ste");
}

std::string type_name(const Module& m) {
  int status = 0;
  char* s = abi::__cxa_demangle(typeid(m).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && s ? s : typeid(m).name();
  std::free(s);
  const std::string prefix = "lowbit::";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// A copy on the host, detached from the model.
Tensor host(const Tensor& t) { return t.detach().to(Device::cpu()).contiguous().clone(); }

std::vector<float> host_values(const Tensor& t, int64_t n, float fallback) {
  return t.defined() ? host(t).to_vector() : std::vector<float>(static_cast<size_t>(n), fallback);
}

// An op after a binary layer's batch norm (or its max-pool before it).
struct After {
  OpKind kind;  // hardtanh, relu, max_pool2d, flatten
  std::string name;
  float lo = -1.f, hi = 1.f;
  Pool2dParams pool;
};

// A binary layer whose sums s are not turned into the next layer's input yet: v = a·s + b per
// output channel, then optionally pooled, batch-normed, and the ops in `after`.
struct Pending {
  size_t op = 0;  // its xnor op in the graph
  std::string layer;
  int64_t channels = 0;
  std::vector<float> a, b;
  std::optional<After> pool_before_bn;
  const BatchNorm* bn = nullptr;
  std::vector<After> after;
};

class Exporter {
 public:
  explicit Exporter(const ExportInfo& info) {
    graph_.model = info.model;
    graph_.dataset = info.dataset;
    graph_.channels = info.channels;
    graph_.height = info.height;
    graph_.width = info.width;
    graph_.classes = info.classes;
    graph_.source = info.source;
  }

  void add(const std::string& name, Module& m) {
    if (auto* q = dynamic_cast<QuantizedLayer*>(&m)) return quantized_layer(name, m, *q);
    if (dynamic_cast<Conv2d*>(&m) || dynamic_cast<Linear*>(&m)) return float_layer(name, m, nullptr);
    if (auto* bn = dynamic_cast<BatchNorm*>(&m)) return batch_norm(name, *bn);
    if (auto* ht = dynamic_cast<HardTanh*>(&m)) return elementwise({OpKind::hardtanh, name, ht->lo(), ht->hi(), {}});
    if (dynamic_cast<ReLU*>(&m)) return elementwise({OpKind::relu, name, -1.f, 1.f, {}});
    if (auto* mp = dynamic_cast<MaxPool2d*>(&m)) return max_pool(name, mp->params());
    if (auto* fl = dynamic_cast<Flatten*>(&m)) return flatten(name, *fl);
    if (dynamic_cast<Dropout*>(&m)) return;  // the identity at inference
    LOWBIT_FAIL("export: layer '", name, "' is a ", type_name(m),
                ", which the deploy path does not take (it takes Conv2d, Linear, their quantized forms, "
                "BatchNorm1d/2d, HardTanh, ReLU, MaxPool2d, Flatten and Dropout)");
  }

  Graph finish() {
    if (pending_) to_floats();
    flush_float_tail();
    LOWBIT_CHECK(binary_layers_ + multibit_layers_ > 0, "export: model '", graph_.model,
                 "' has no quantized layer (with quantized inputs and weights); train it with --quant and "
                 "--w-bits/--a-bits below 8");
    check_graph(graph_, "export of " + graph_.model);
    return std::move(graph_);
  }

 private:
  void quantized_layer(const std::string& name, Module& m, QuantizedLayer& q) {
    Quantizer* wq = q.weight_quantizer();
    Quantizer* aq = q.input_quantizer();
    if (aq) {
      LOWBIT_CHECK(wq != nullptr, "export: layer '", name, "' has a ", aq->bits(),
                   "-bit input but float weights; the deploy path needs quantized weights too");
      if (is_sign_quantizer(*aq) && is_sign_quantizer(*wq)) return binary_layer(name, m, q);
      return multibit_layer(name, m, q);
    }
    // A float input: the layer runs in float with its quantized weights as the training graph uses
    // them (first/last layers, at 8 bits, or at the hidden width as MINW-Net quantizes every weight).
    float_layer(name, m, &q);
  }

  void binary_layer(const std::string& name, Module& m, QuantizedLayer& q) {
    if (pending_) to_bits();
    else float_tail_to_bits(name + ".input");
    auto* conv = dynamic_cast<Conv2d*>(&m);
    auto* lin = dynamic_cast<Linear*>(&m);
    LOWBIT_CHECK(conv || lin, "export: layer '", name, "' is a quantized ", type_name(m), ", not a conv or linear");
    const Tensor& weight = conv ? conv->weight() : lin->weight();
    const Tensor& bias = conv ? conv->bias() : lin->bias();
    Tensor qw;
    {
      NoGradGuard no_grad;
      qw = host(q.weight_quantizer()->forward(weight));
    }
    const int64_t out = qw.size(0), per = qw.numel() / out;
    LOWBIT_CHECK(per < kMaxSumBits, "export: layer '", name, "' sums ", per, " products per output (at most ",
                 kMaxSumBits - 1, ")");
    // Each output channel's weights must be ±a_c.
    const float layer_scale = q.has_output_scale() ? std::abs(host(q.output_scale()).item()) : 1.f;
    std::vector<float> w = qw.to_vector(), a(out), b = host_values(bias, out, 0.f);
    for (int64_t c = 0; c < out; ++c) {
      const float ac = std::abs(w[c * per]);
      for (int64_t i = 0; i < per; ++i)
        LOWBIT_CHECK(std::abs(w[c * per + i]) == ac, "export: layer '", name, "': its quantized weights are not ±a ",
                     "per output channel (channel ", c, " holds ", w[c * per], " and ", w[c * per + i], ")");
      a[c] = ac * layer_scale;
    }
    Op op{OpKind::xnor_linear, name};
    if (conv) {
      const Conv2dOptions& o = conv->options();
      LOWBIT_CHECK(o.groups == 1, "export: layer '", name, "' is a grouped convolution (", o.groups,
                   " groups); the binary deploy path takes groups = 1");
      op.kind = OpKind::xnor_conv2d;
      op.stride = o.stride;
      op.padding = o.padding;
    }
    op.tensors["weight"] = qw.to(DType::b1);  // sign of ±a_c (a_c = 0: any sign, it counts 0)
    graph_.ops.push_back(std::move(op));
    pending_ = Pending{graph_.ops.size() - 1, name, out, std::move(a), std::move(b), std::nullopt, nullptr, {}};
    ++binary_layers_;
  }

  // A layer with multi-bit (or AQE) quantizers: quantize (the input quantizer's levels as codes),
  // then the integer layer with the affine epilogue scale[c]·s + bias[c], scale = input step ·
  // weight step[c] · |α| (weight_codes.h); what follows runs in float.
  void multibit_layer(const std::string& name, Module& m, QuantizedLayer& q) {
    if (pending_) to_floats();
    flush_float_tail();
    auto* conv = dynamic_cast<Conv2d*>(&m);
    auto* lin = dynamic_cast<Linear*>(&m);
    LOWBIT_CHECK(conv || lin, "export: layer '", name, "' is a quantized ", type_name(m), ", not a conv or linear");
    Op quantize = quantize_op_for(name, *q.input_quantizer());
    const CodeFormat input_format = check_quantize_op(quantize, "export: layer '" + name + "': ");
    const double input_step = quantize_step(quantize);
    Tensor qw;
    {
      NoGradGuard no_grad;
      qw = host(q.weight_quantizer()->forward(conv ? conv->weight() : lin->weight()));
    }
    WeightCodes wc = weight_codes(name, qw, q.weight_quantizer()->config().method == "aqe");
    const double layer_scale = q.has_output_scale() ? std::abs(host(q.output_scale()).item()) : 1.0;
    const int64_t out = qw.size(0);
    std::vector<float> scale(static_cast<size_t>(out));
    for (int64_t c = 0; c < out; ++c)
      scale[static_cast<size_t>(c)] = static_cast<float>(input_step * wc.step[static_cast<size_t>(c)] * layer_scale);
    Op op{lin ? OpKind::multibit_linear : OpKind::multibit_conv2d, name};
    if (conv) {
      const Conv2dOptions& o = conv->options();
      LOWBIT_CHECK(o.groups == 1, "export: layer '", name, "' is a grouped convolution (", o.groups,
                   " groups); the multi-bit deploy path takes groups = 1");
      op.stride = o.stride;
      op.padding = o.padding;
    }
    op.input_format = input_format;
    op.weight_format = wc.format;
    op.epilogue = XnorEpilogue::Kind::affine;
    op.tensors["weight"] = wc.codes;
    op.tensors["scale"] = Tensor::from_vector(scale, {out});
    const Tensor& bias = conv ? conv->bias() : lin->bias();
    if (bias.defined()) op.tensors["bias"] = host(bias);
    emit(std::move(quantize));
    emit(std::move(op));
    ++multibit_layers_;
  }

  void float_layer(const std::string& name, Module& m, QuantizedLayer* q) {
    if (pending_) to_floats();
    flush_float_tail();
    LOWBIT_CHECK(!q || !q->has_output_scale(), "export: layer '", name,
                 "' has a float input and a learned output scale, which the deploy path does not take");
    auto* conv = dynamic_cast<Conv2d*>(&m);
    auto* lin = dynamic_cast<Linear*>(&m);
    Tensor weight = conv ? conv->weight() : lin->weight();
    if (q && q->weight_quantizer()) {
      NoGradGuard no_grad;
      weight = q->weight_quantizer()->forward(weight);
    }
    Op op{conv ? OpKind::conv2d : OpKind::linear, name};
    if (conv) {
      const Conv2dOptions& o = conv->options();
      LOWBIT_CHECK(o.groups == 1, "export: layer '", name, "' is a grouped convolution (", o.groups,
                   " groups); the deploy path takes groups = 1");
      op.stride = o.stride;
      op.padding = o.padding;
    }
    op.tensors["weight"] = host(weight);
    const Tensor& bias = conv ? conv->bias() : lin->bias();
    if (bias.defined()) op.tensors["bias"] = host(bias);
    emit(std::move(op));
  }

  void batch_norm(const std::string& name, const BatchNorm& bn) {
    if (pending_ && !pending_->bn && pending_->after.empty()) {
      LOWBIT_CHECK(bn.num_features() == pending_->channels, "export: batch norm '", name, "' has ",
                   bn.num_features(), " channels, the binary layer '", pending_->layer, "' before it ",
                   pending_->channels);
      pending_->bn = &bn;
      return;
    }
    if (pending_) to_floats();
    flush_float_tail();
    Op op{OpKind::batch_norm, name};
    op.eps = bn.options().eps;
    op.tensors["mean"] = host(bn.running_mean());
    op.tensors["var"] = host(bn.running_var());
    if (bn.weight().defined()) op.tensors["weight"] = host(bn.weight());
    if (bn.bias().defined()) op.tensors["bias"] = host(bn.bias());
    emit(std::move(op));
  }

  void elementwise(const After& a) {
    if (pending_) pending_->after.push_back(a);
    else float_tail_.push_back(a);
  }

  // The float ops since the last float layer, as float ops.
  void flush_float_tail() {
    for (const After& a : float_tail_) emit(float_op(a));
    float_tail_.clear();
  }

  // The float value feeds a binary layer, whose input quantizer takes its sign. HardTanh
  // (lo < 0 <= hi) keeps every sign and max(x) >= 0 iff some x >= 0, so a tail of only these
  // becomes: sign, then binary max-pools (exact, and cheaper than the float ops); any other tail
  // runs in float before the sign.
  void float_tail_to_bits(const std::string& sign_name) {
    bool movable = true;
    for (const After& a : float_tail_)
      movable = movable && ((a.kind == OpKind::hardtanh && a.lo < 0.f && a.hi >= 0.f) || a.kind == OpKind::max_pool2d);
    if (!movable) flush_float_tail();
    emit({OpKind::sign, sign_name});
    for (const After& a : float_tail_)
      if (a.kind == OpKind::max_pool2d) emit(pool_op(a, OpKind::binary_max_pool2d));
    float_tail_.clear();
  }

  void max_pool(const std::string& name, const Pool2dParams& p) {
    LOWBIT_CHECK(p.kernel_h == p.kernel_w && p.stride_h == p.stride_w && p.pad_h == p.pad_w, "export: max-pool '",
                 name, "' must be square");
    After a{OpKind::max_pool2d, name, -1.f, 1.f, p};
    if (pending_ && !pending_->bn && pending_->after.empty() && !pending_->pool_before_bn)
      pending_->pool_before_bn = a;
    else
      elementwise(a);
  }

  void flatten(const std::string& name, const Flatten& f) {
    LOWBIT_CHECK(f.start_axis() == 1 && f.end_axis() == -1, "export: flatten '", name,
                 "' must merge every axis after the batch (start 1, end -1)");
    elementwise({OpKind::flatten, name, -1.f, 1.f, {}});
  }

  static Op float_op(const After& a) {
    Op op{a.kind, a.name};
    op.lo = a.lo;
    op.hi = a.hi;
    op.kernel = a.pool.kernel_h;
    op.stride = a.pool.stride_h;
    op.padding = a.pool.pad_h;
    return op;
  }

  // The pending layer's epilogue folded from its batch norm, {γ, β, μ - b, var, eps} per channel
  // (without one: γ = 1, β = 0, μ = -b, var = 1, eps = 0, i.e. y = a·s + b).
  static XnorEpilogue fold(const Pending& p, bool threshold) {
    const int64_t C = p.channels;
    std::vector<float> mean(C, 0.f);
    Tensor gamma, beta, var = Tensor::ones({C});
    float eps = 0.f;
    if (p.bn) {
      gamma = p.bn->weight().defined() ? host(p.bn->weight()) : Tensor();
      beta = p.bn->bias().defined() ? host(p.bn->bias()) : Tensor();
      mean = host(p.bn->running_mean()).to_vector();
      var = host(p.bn->running_var());
      eps = p.bn->options().eps;
    }
    for (int64_t c = 0; c < C; ++c) mean[c] -= p.b[c];
    const Tensor alpha = Tensor::from_vector(p.a, {C}), mu = Tensor::from_vector(mean, {C});
    return threshold ? fold_bn_threshold_epilogue(alpha, gamma, beta, mu, var, eps)
                     : fold_bn_affine_epilogue(alpha, gamma, beta, mu, var, eps);
  }

  // The pending layer feeds a binary layer: threshold epilogue -> b1.
  void to_bits() {
    Pending p = std::move(*pending_);
    pending_.reset();
    XnorEpilogue ep = fold(p, true);
    uint8_t* mode = ep.mode.data<uint8_t>();
    const int64_t C = p.channels;
    bool relu = false;
    for (const After& a : p.after) {
      LOWBIT_CHECK(a.kind != OpKind::hardtanh || (a.lo < 0.f && a.hi >= 0.f), "export: HardTanh '", a.name, "' [",
                   a.lo, ", ", a.hi, "] before a binary layer changes the signs (it needs lo < 0 <= hi)");
      relu = relu || a.kind == OpKind::relu;
    }
    bool increasing = true;
    for (int64_t c = 0; c < C; ++c) {
      if (relu) mode[c] = static_cast<uint8_t>(ThresholdMode::always_pos);  // sign(relu(y)) = +1, kept by pools
      increasing = increasing && mode[c] != static_cast<uint8_t>(ThresholdMode::le);
    }
    Op threshold = epilogue_op(p.layer + ".threshold", ep);
    if (p.pool_before_bn && !increasing) {
      // max(s) then a decreasing threshold is not a binary max-pool of the bits: pool the sums.
      emit(pool_op(*p.pool_before_bn, OpKind::int_max_pool2d));
      emit(std::move(threshold));
    } else {
      fuse(p.op, std::move(threshold));
      // With increasing thresholds sign(bn(max s)) = max sign(bn(s)): a binary max-pool.
      if (p.pool_before_bn) emit(pool_op(*p.pool_before_bn, OpKind::binary_max_pool2d));
    }
    for (const After& a : p.after) {
      if (a.kind == OpKind::max_pool2d) emit(pool_op(a, OpKind::binary_max_pool2d));
      if (a.kind == OpKind::flatten) emit(float_op(a));
    }
  }

  // The pending layer feeds float layers (or is the last one): affine epilogue -> f32.
  void to_floats() {
    Pending p = std::move(*pending_);
    pending_.reset();
    Op affine = epilogue_op(p.layer + ".affine", fold(p, false));
    if (p.pool_before_bn) {
      emit(pool_op(*p.pool_before_bn, OpKind::int_max_pool2d));
      emit(std::move(affine));
    } else {
      fuse(p.op, std::move(affine));
    }
    for (const After& a : p.after) emit(float_op(a));
  }

  static Op epilogue_op(const std::string& name, const XnorEpilogue& ep) {
    Op op{OpKind::epilogue, name};
    op.epilogue = ep.kind;
    for (const auto& [role, t] : {std::pair{"scale", ep.scale}, std::pair{"bias", ep.bias},
                                  std::pair{"threshold", ep.threshold}, std::pair{"mode", ep.mode}})
      if (t.defined()) op.tensors[role] = t;
    return op;
  }

  // Moves a standalone epilogue into the xnor op `index`.
  void fuse(size_t index, Op epilogue) {
    Op& op = graph_.ops[index];
    op.epilogue = epilogue.epilogue;
    for (auto& [role, t] : epilogue.tensors) op.tensors[role] = std::move(t);
  }

  static Op pool_op(const After& a, OpKind kind) {
    Op op = float_op(a);
    op.kind = kind;
    return op;
  }

  void emit(Op op) { graph_.ops.push_back(std::move(op)); }

  Graph graph_;
  std::optional<Pending> pending_;
  std::vector<After> float_tail_;  // HardTanh, ReLU, max-pools, flatten after the last float op
  int binary_layers_ = 0, multibit_layers_ = 0;
};

}  // namespace

Graph export_model(Module& model, const ExportInfo& info) {
  auto* seq = dynamic_cast<Sequential*>(&model);
  LOWBIT_CHECK(seq != nullptr, "export: model '", info.model, "' is a ", type_name(model),
               "; the deploy path takes a Sequential of layers");
  model.eval();
  Exporter e(info);
  for (const auto& [name, child] : seq->children()) e.add(name, *child);
  return e.finish();
}

}  // namespace lowbit::deploy
