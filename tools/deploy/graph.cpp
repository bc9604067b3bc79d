// Deploy graph: op names, tensor roles and the shape/dtype walk that checks a graph.
#include "tools/deploy/graph.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "kernels/window.h"
#include "kernels/xnor_epilogue_math.h"
#include "tools/deploy/act_quant.h"

namespace lowbit::deploy {
namespace {

constexpr std::pair<OpKind, const char*> kOpNames[] = {
    {OpKind::conv2d, "conv2d"},
    {OpKind::linear, "linear"},
    {OpKind::batch_norm, "batch_norm"},
    {OpKind::hardtanh, "hardtanh"},
    {OpKind::relu, "relu"},
    {OpKind::max_pool2d, "max_pool2d"},
    {OpKind::flatten, "flatten"},
    {OpKind::sign, "sign"},
    {OpKind::xnor_conv2d, "xnor_conv2d"},
    {OpKind::xnor_linear, "xnor_linear"},
    {OpKind::binary_max_pool2d, "binary_max_pool2d"},
    {OpKind::int_max_pool2d, "int_max_pool2d"},
    {OpKind::epilogue, "epilogue"},
    {OpKind::quantize, "quantize"},
    {OpKind::multibit_conv2d, "multibit_conv2d"},
    {OpKind::multibit_linear, "multibit_linear"},
};

// Checks one op, given its input; returns its output. `at` prefixes every message.
class OpChecker {
 public:
  OpChecker(const Op& op, std::string at) : op_(op), at_(std::move(at)) {}

  ValueType run(const ValueType& in) {
    switch (op_.kind) {
      case OpKind::conv2d: {
        image_input(in, DType::f32);
        const Tensor& w = need("weight", DType::f32, 4);
        LOWBIT_CHECK(w.size(3) == in.shape[2], at_, "weight ", shape_str(w.shape()), " has ", w.size(3),
                     " input channels, its input ", shape_str(in.shape), " has ", in.shape[2]);
        optional_vector("bias", DType::f32, w.size(0));
        only_roles({"weight", "bias"});
        return {DType::f32, window_output(in, w.size(1), w.size(2), w.size(0))};
      }
      case OpKind::linear: {
        vector_input(in, DType::f32);
        const Tensor& w = need("weight", DType::f32, 2);
        LOWBIT_CHECK(w.size(1) == in.shape[0], at_, "weight ", shape_str(w.shape()), " takes ", w.size(1),
                     " features, its input has ", in.shape[0]);
        optional_vector("bias", DType::f32, w.size(0));
        only_roles({"weight", "bias"});
        return {DType::f32, {w.size(0)}};
      }
      case OpKind::batch_norm: {
        any_input(in, DType::f32);
        const int64_t c = in.shape.back();
        vector_of("mean", DType::f32, c);
        vector_of("var", DType::f32, c);
        optional_vector("weight", DType::f32, c);
        optional_vector("bias", DType::f32, c);
        only_roles({"mean", "var", "weight", "bias"});
        LOWBIT_CHECK(std::isfinite(op_.eps) && op_.eps >= 0.f, at_, "eps must be a finite number >= 0, got ", op_.eps);
        return in;
      }
      case OpKind::hardtanh:
        LOWBIT_CHECK(op_.lo < op_.hi, at_, "lo ", op_.lo, " must be below hi ", op_.hi);
        [[fallthrough]];
      case OpKind::relu:
        any_input(in, DType::f32);
        only_roles({});
        return in;
      case OpKind::max_pool2d: return pool(in, DType::f32);
      case OpKind::binary_max_pool2d: return pool(in, DType::b1);
      case OpKind::int_max_pool2d: return pool(in, DType::i32);
      case OpKind::flatten:
        LOWBIT_CHECK(in.shape.size() == 3, at_, "its input must be an image [H,W,C], got ", shape_str(in.shape));
        only_roles({});
        return {in.dtype, {in.shape[0] * in.shape[1] * in.shape[2]}, in.format};
      case OpKind::sign:
        any_input(in, DType::f32);
        only_roles({});
        return {DType::b1, in.shape};
      case OpKind::xnor_conv2d: {
        image_input(in, DType::b1);
        const Tensor& w = need("weight", DType::b1, 4);
        LOWBIT_CHECK(w.size(3) == in.shape[2], at_, "weight ", shape_str(w.shape()), " has ", w.size(3),
                     " input channels, its input ", shape_str(in.shape), " has ", in.shape[2]);
        DType out = epilogue(w.size(0), {"weight"});
        return {out, window_output(in, w.size(1), w.size(2), w.size(0))};
      }
      case OpKind::xnor_linear: {
        vector_input(in, DType::b1);
        const Tensor& w = need("weight", DType::b1, 2);
        LOWBIT_CHECK(w.size(1) == in.shape[0], at_, "weight ", shape_str(w.shape()), " takes ", w.size(1),
                     " features, its input has ", in.shape[0]);
        return {epilogue(w.size(0), {"weight"}), {w.size(0)}};
      }
      case OpKind::epilogue: {
        any_input(in, DType::i32);
        LOWBIT_CHECK(op_.epilogue != XnorEpilogue::Kind::none, at_, "a standalone epilogue must be affine or threshold");
        return {epilogue(in.shape.back(), {}), in.shape};
      }
      case OpKind::quantize: {
        any_input(in, DType::f32);
        return {DType::i8, in.shape, check_quantize_op(op_, at_)};
      }
      case OpKind::multibit_conv2d: {
        image_input(in, DType::i8);
        const Tensor& w = multibit_weight(in, 4);
        LOWBIT_CHECK(w.size(3) == in.shape[2], at_, "weight ", shape_str(w.shape()), " has ", w.size(3),
                     " input channels, its input ", shape_str(in.shape), " has ", in.shape[2]);
        return {epilogue(w.size(0), {"weight"}), window_output(in, w.size(1), w.size(2), w.size(0))};
      }
      case OpKind::multibit_linear: {
        vector_input(in, DType::i8);
        const Tensor& w = multibit_weight(in, 2);
        LOWBIT_CHECK(w.size(1) == in.shape[0], at_, "weight ", shape_str(w.shape()), " takes ", w.size(1),
                     " features, its input has ", in.shape[0]);
        return {epilogue(w.size(0), {"weight"}), {w.size(0)}};
      }
    }
    LOWBIT_FAIL(at_, "unknown op kind ", static_cast<int>(op_.kind));
  }

 private:
  void any_input(const ValueType& in, DType dtype) const {
    LOWBIT_CHECK(in.dtype == dtype, at_, "takes ", dtype_name(dtype), " input, gets ", dtype_name(in.dtype), " ",
                 shape_str(in.shape));
    LOWBIT_CHECK(!in.shape.empty(), at_, "its input has no channel axis");
  }
  void image_input(const ValueType& in, DType dtype) const {
    any_input(in, dtype);
    LOWBIT_CHECK(in.shape.size() == 3, at_, "takes an image [H,W,C], gets ", shape_str(in.shape));
  }
  void vector_input(const ValueType& in, DType dtype) const {
    any_input(in, dtype);
    LOWBIT_CHECK(in.shape.size() == 1, at_, "takes a feature vector [F], gets ", shape_str(in.shape),
                 " (flatten first)");
  }
  const Tensor& need(const std::string& role, DType dtype, int64_t rank) const {
    auto it = op_.tensors.find(role);
    LOWBIT_CHECK(it != op_.tensors.end() && it->second.defined(), at_, "tensor '", role, "' is missing");
    const Tensor& t = it->second;
    LOWBIT_CHECK(t.dtype() == dtype && t.dim() == rank, at_, "tensor '", role, "' must be ", dtype_name(dtype),
                 " of rank ", rank, ", got ", dtype_name(t.dtype()), " ", shape_str(t.shape()));
    for (int64_t d : t.shape()) LOWBIT_CHECK(d > 0, at_, "tensor '", role, "' ", shape_str(t.shape()), " is empty");
    return t;
  }
  void vector_of(const std::string& role, DType dtype, int64_t n) const {
    const Tensor& t = need(role, dtype, 1);
    LOWBIT_CHECK(t.size(0) == n, at_, "tensor '", role, "' must be [", n, "], got ", shape_str(t.shape()));
  }
  void optional_vector(const std::string& role, DType dtype, int64_t n) const {
    if (op_.tensor(role).defined()) vector_of(role, dtype, n);
  }
  void only_roles(std::initializer_list<const char*> roles) const {
    for (const auto& [role, t] : op_.tensors) {
      bool known = false;
      for (const char* r : roles) known = known || role == r;
      LOWBIT_CHECK(known, at_, "has no tensor role '", role, "'");
    }
  }
  // A multi-bit layer's weight codes (checked one by one) and formats; its epilogue must be affine
  // with finite scales.
  const Tensor& multibit_weight(const ValueType& in, int64_t rank) const {
    LOWBIT_CHECK(code_format_ok(op_.input_format.kind, op_.input_format.bits) &&
                     code_format_ok(op_.weight_format.kind, op_.weight_format.bits),
                 at_, "unsupported code formats ", code_format_str(op_.input_format), " x ",
                 code_format_str(op_.weight_format));
    LOWBIT_CHECK(in.format.kind == op_.input_format.kind && in.format.bits == op_.input_format.bits, at_,
                 "takes ", code_format_str(op_.input_format), " codes, its input holds ", code_format_str(in.format));
    const Tensor& w = need("weight", DType::i8, rank);
    const int8_t* c = w.data<int8_t>();
    for (int64_t i = 0; i < w.numel(); ++i)
      LOWBIT_CHECK(code_valid(op_.weight_format.kind, op_.weight_format.bits, c[i]), at_, "weight code ", int{c[i]},
                   " at ", i, " is not a ", code_format_str(op_.weight_format), " code");
    LOWBIT_CHECK(op_.epilogue == XnorEpilogue::Kind::affine, at_, "a multi-bit layer's epilogue must be affine, got ",
                 epilogue_kind_name(op_.epilogue));
    const Tensor scale = op_.tensor("scale");
    if (scale.defined() && scale.dtype() == DType::f32)
      for (int64_t i = 0; i < scale.numel(); ++i)
        LOWBIT_CHECK(std::isfinite(scale.data<float>()[i]), at_, "scale[", i, "] is ", scale.data<float>()[i]);
    return w;
  }
  // The epilogue's tensors for `channels` outputs (besides `other_roles`); returns its output dtype.
  DType epilogue(int64_t channels, std::initializer_list<const char*> other_roles) const {
    std::vector<const char*> roles(other_roles);
    DType out = DType::i32;
    if (op_.epilogue == XnorEpilogue::Kind::affine) {
      vector_of("scale", DType::f32, channels);
      optional_vector("bias", DType::f32, channels);
      roles.insert(roles.end(), {"scale", "bias"});
      out = DType::f32;
    } else if (op_.epilogue == XnorEpilogue::Kind::threshold) {
      vector_of("threshold", DType::i32, channels);
      vector_of("mode", DType::u8, channels);
      const uint8_t* m = op_.tensor("mode").data<uint8_t>();
      for (int64_t c = 0; c < channels; ++c)
        LOWBIT_CHECK(m[c] < kThresholdModeCount, at_, "mode[", c, "] = ", int{m[c]}, " is not a threshold mode");
      roles.insert(roles.end(), {"threshold", "mode"});
      out = DType::b1;
    }
    for (const auto& [role, t] : op_.tensors) {
      bool known = false;
      for (const char* r : roles) known = known || role == r;
      LOWBIT_CHECK(known, at_, "has no tensor role '", role, "' with epilogue ", epilogue_kind_name(op_.epilogue));
    }
    return out;
  }
  Shape window_output(const ValueType& in, int64_t kh, int64_t kw, int64_t channels) const {
    LOWBIT_CHECK(op_.stride >= 1 && op_.padding >= 0, at_, "stride must be >= 1 and padding >= 0, got stride ",
                 op_.stride, " and padding ", op_.padding);
    LOWBIT_CHECK(in.shape[0] + 2 * op_.padding >= kh && in.shape[1] + 2 * op_.padding >= kw, at_, "window ", kh,
                 "x", kw, " does not fit its input ", shape_str(in.shape), " with padding ", op_.padding);
    return {window_out_size(in.shape[0], kh, op_.stride, op_.padding),
            window_out_size(in.shape[1], kw, op_.stride, op_.padding), channels};
  }
  ValueType pool(const ValueType& in, DType dtype) const {
    image_input(in, dtype);
    only_roles({});
    LOWBIT_CHECK(op_.kernel >= 1 && op_.padding < op_.kernel, at_, "kernel ", op_.kernel, " must be >= 1 and above the padding ",
                 op_.padding);
    return {dtype, window_output(in, op_.kernel, op_.kernel, in.shape[2])};
  }

  const Op& op_;
  std::string at_;
};

}  // namespace

const char* op_kind_name(OpKind kind) {
  for (const auto& [k, name] : kOpNames)
    if (k == kind) return name;
  return "?";
}

OpKind op_kind_from_name(const std::string& name, const std::string& where) {
  for (const auto& [k, n] : kOpNames)
    if (name == n) return k;
  LOWBIT_FAIL(where, ": unknown op '", name, "'");
}

const char* epilogue_kind_name(XnorEpilogue::Kind kind) {
  switch (kind) {
    case XnorEpilogue::Kind::none: return "none";
    case XnorEpilogue::Kind::affine: return "affine";
    case XnorEpilogue::Kind::threshold: return "threshold";
  }
  return "?";
}

CodeFormat code_format_from_name(const std::string& name, const std::string& where) {
  CodeFormat f;
  if (name == "binary") {
    f = CodeFormat::binary();
  } else if (name == "ternary") {
    f = CodeFormat::ternary();
  } else {
    int bits = 0;
    std::string digits;
    if ((name[0] == 'u' || name[0] == 's') && name.size() == 2) digits = name.substr(1);
    if (name.rfind("pow2(", 0) == 0 && name.size() == 7 && name.back() == ')') digits = name.substr(5, 1);
    if (digits.size() == 1 && std::isdigit(static_cast<unsigned char>(digits[0]))) bits = digits[0] - '0';
    LOWBIT_CHECK(bits > 0, where, ": unknown code format '", name, "' (u1..u7, s2..s8, binary, ternary, pow2(2..4))");
    f = {name[0] == 'u' ? CodeKind::unsigned_int : name[0] == 's' ? CodeKind::signed_int : CodeKind::pow2, bits};
  }
  LOWBIT_CHECK(code_format_ok(f.kind, f.bits), where, ": unsupported code format '", name,
               "' (u1..u7, s2..s8, binary, ternary, pow2(2..4))");
  return f;
}

XnorEpilogue::Kind epilogue_kind_from_name(const std::string& name, const std::string& where) {
  for (auto k : {XnorEpilogue::Kind::none, XnorEpilogue::Kind::affine, XnorEpilogue::Kind::threshold})
    if (name == epilogue_kind_name(k)) return k;
  LOWBIT_FAIL(where, ": unknown epilogue '", name, "' (none, affine or threshold)");
}

Tensor Op::tensor(const std::string& role) const {
  auto it = tensors.find(role);
  return it == tensors.end() ? Tensor() : it->second;
}

XnorEpilogue Op::xnor_epilogue() const {
  XnorEpilogue ep;
  ep.kind = epilogue;
  ep.scale = tensor("scale");
  ep.bias = tensor("bias");
  ep.threshold = tensor("threshold");
  ep.mode = tensor("mode");
  return ep;
}

namespace {

// Runs f(op index, op, input, output) along the checked graph.
template <typename F>
void walk(const Graph& g, const std::string& where, F f) {
  LOWBIT_CHECK(g.channels > 0 && g.height > 0 && g.width > 0 && g.classes > 0, where, ": input ", g.height, "x",
               g.width, "x", g.channels, " and classes ", g.classes, " must be positive");
  LOWBIT_CHECK(!g.ops.empty(), where, ": the graph has no ops");
  ValueType v{DType::f32, {g.height, g.width, g.channels}};
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    std::ostringstream at;
    at << where << ": op " << i << " '" << op.name << "' (" << op_kind_name(op.kind) << "): ";
    for (const auto& [role, t] : op.tensors)
      LOWBIT_CHECK(t.defined() && t.is_contiguous() && t.device().is_cpu(), at.str(), "tensor '", role,
                   "' must be a contiguous CPU tensor");
    ValueType out = OpChecker(op, at.str()).run(v);
    f(i, op, v, out);
    v = out;
  }
  LOWBIT_CHECK(v.dtype == DType::f32 && v.shape == Shape{g.classes}, where, ": the graph's output is ",
               dtype_name(v.dtype), " ", shape_str(v.shape), ", expected f32 [", g.classes, "] (the logits)");
}

}  // namespace

void check_graph(const Graph& g, const std::string& where) {
  walk(g, where, [](size_t, const Op&, const ValueType&, const ValueType&) {});
}

std::string graph_summary(const Graph& g) {
  std::ostringstream os;
  walk(g, "graph", [&](size_t i, const Op& op, const ValueType& in, const ValueType& out) {
    os << "  " << i << "  " << op_kind_name(op.kind);
    if (op.kind == OpKind::xnor_conv2d || op.kind == OpKind::xnor_linear || op.kind == OpKind::epilogue)
      os << " (" << epilogue_kind_name(op.epilogue) << ")";
    if (op.kind == OpKind::quantize) os << " (" << op.method << " " << code_format_str(out.format) << ")";
    if (op.kind == OpKind::multibit_conv2d || op.kind == OpKind::multibit_linear)
      os << " (" << code_format_str(op.input_format) << " x " << code_format_str(op.weight_format) << ")";
    os << "  " << op.name << "  " << dtype_name(in.dtype) << " " << shape_str(in.shape) << " -> "
       << dtype_name(out.dtype) << " " << shape_str(out.shape) << "\n";
  });
  return os.str();
}

}  // namespace lowbit::deploy
