// The quantize op (see act_quant.h): per-method parameters, checks, eval forward and codes.
#include "tools/deploy/act_quant.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "quant/aqe.h"
#include "quant/daq.h"
#include "quant/dorefa.h"
#include "quant/ewgs.h"
#include "quant/lsq.h"
#include "quant/pact.h"
#include "quant/sat.h"
#include "quant/ste.h"

namespace lowbit::deploy {
namespace {

struct Method {
  const char* name;
  int min_bits, max_bits;
  std::vector<std::string> roles;
};

// Widths stop at 7: unsigned codes have at most 7 bits (kernels/multibit_math.h).
const std::vector<Method>& methods() {
  static const std::vector<Method> m = {
      {"ewgs", 1, 7, {"l", "u"}}, {"daq", 1, 7, {"l", "u"}}, {"lsq", 1, 7, {"step"}},  {"dorefa", 1, 7, {}},
      {"pact", 1, 7, {"alpha"}},  {"sat", 1, 7, {"alpha"}},  {"ste", 1, 7, {}},        {"aqe", 1, 3, {}},
  };
  return m;
}

const Method* find_method(const std::string& name) {
  for (const Method& m : methods())
    if (name == m.name) return &m;
  return nullptr;
}

std::string method_list() {
  std::string s;
  for (const Method& m : methods()) s += (s.empty() ? "" : ", ") + std::string(m.name);
  return s;
}

float levels_minus_one(int bits) { return static_cast<float>((1 << bits) - 1); }

float scalar(const Op& op, const std::string& role) { return op.tensor(role).data<float>()[0]; }

// A one-element f32 host copy of a quantizer parameter.
Tensor param(const Tensor& t) { return t.detach().to(Device::cpu()).contiguous().reshape({1}).clone(); }

Tensor named(const Quantizer& q, const std::string& name) {
  for (const auto& [n, t] : q.named_parameters())
    if (n == name) return t;
  for (const auto& [n, t] : q.named_buffers())
    if (n == name) return t;
  return Tensor();
}

CodeFormat format_of(const std::string& method, int bits) {
  if (method == "aqe") return bits == 1 ? CodeFormat::binary() : bits == 2 ? CodeFormat::ternary() : CodeFormat::pow2(3);
  if (method == "ste" && bits == 1) return CodeFormat::binary();
  return CodeFormat::unsigned_bits(bits);
}

}  // namespace

Op quantize_op_for(const std::string& layer, const Quantizer& q) {
  const std::string& method = q.config().method;
  const int bits = q.bits();
  const Method* m = find_method(method);
  LOWBIT_CHECK(m != nullptr, "export: layer '", layer, "' quantizes its input with '", method,
               "', which the multi-bit deploy path does not take (it takes ", method_list(), ")");
  LOWBIT_CHECK(bits >= m->min_bits && bits <= m->max_bits, "export: layer '", layer, "' quantizes its input with '",
               method, "' at ", bits, " bits; the multi-bit deploy path takes ", m->min_bits, "-", m->max_bits,
               " bits for it");
  Op op{OpKind::quantize, layer + ".input"};
  op.method = method;
  op.bits = bits;
  if (method == "ewgs") {
    const auto& e = dynamic_cast<const EwgsQuantizer&>(q);
    op.tensors["l"] = param(e.lower());
    op.tensors["u"] = param(e.upper());
  } else if (method == "daq") {
    const auto& d = dynamic_cast<const DaqQuantizer&>(q);
    op.tensors["l"] = param(d.lower());
    op.tensors["u"] = param(d.upper());
  } else if (method == "lsq") {
    op.tensors["step"] = param(dynamic_cast<const LsqQuantizer&>(q).step());
  } else if (method == "pact" || method == "sat") {
    const Tensor alpha = named(q, "alpha");
    LOWBIT_CHECK(alpha.defined(), "export: layer '", layer, "': its ", method, " input quantizer has no clip 'alpha'");
    op.tensors["alpha"] = param(alpha);
  } else if (method == "aqe") {
    const auto& a = dynamic_cast<const AqeQuantizer&>(q);
    LOWBIT_CHECK(!a.relative_delta(), "export: layer '", layer,
                 "': its aqe input quantizer has a relative ternary threshold (delta_rel), which depends on the "
                 "batch; the deploy path takes a fixed delta");
    op.delta = a.delta();
  }
  check_quantize_op(op, "export: layer '" + layer + "': ");
  return op;
}

CodeFormat check_quantize_op(const Op& op, const std::string& at) {
  const Method* m = find_method(op.method);
  LOWBIT_CHECK(m != nullptr, at, "unknown method '", op.method, "' (known: ", method_list(), ")");
  LOWBIT_CHECK(op.bits >= m->min_bits && op.bits <= m->max_bits, at, "method ", op.method, " takes ", m->min_bits,
               "-", m->max_bits, " bits, got ", op.bits);
  for (const auto& [role, t] : op.tensors) {
    bool known = false;
    for (const std::string& r : m->roles) known = known || role == r;
    LOWBIT_CHECK(known, at, "method ", op.method, " has no tensor role '", role, "'");
  }
  for (const std::string& role : m->roles) {
    const Tensor t = op.tensor(role);
    LOWBIT_CHECK(t.defined(), at, "tensor '", role, "' is missing");
    LOWBIT_CHECK(t.dtype() == DType::f32 && t.numel() == 1, at, "tensor '", role, "' must be one f32 value, got ",
                 dtype_name(t.dtype()), " ", shape_str(t.shape()));
    LOWBIT_CHECK(std::isfinite(t.data<float>()[0]), at, "tensor '", role, "' is ", t.data<float>()[0]);
  }
  if (op.method == "ewgs" || op.method == "daq")
    LOWBIT_CHECK(scalar(op, "u") > scalar(op, "l"), at, "its interval [l, u] = [", scalar(op, "l"), ", ",
                 scalar(op, "u"), "] is empty");
  if (op.method == "aqe" && op.bits == 2)
    LOWBIT_CHECK(op.delta > 0.f && op.delta < 1.f, at, "the ternary threshold delta must be in (0, 1), got ",
                 op.delta);
  const float step = quantize_step(op);
  LOWBIT_CHECK(std::isfinite(step) && step != 0.f, at, "its step (the value of code 1) is ", step);
  return format_of(op.method, op.bits);
}

float quantize_step(const Op& op) {
  const std::string& m = op.method;
  if (m == "lsq") return scalar(op, "step");
  if (m == "pact" || m == "sat") return std::abs(scalar(op, "alpha")) / levels_minus_one(op.bits);
  if (m == "aqe") return op.bits == 3 ? pow2_unit(3) : 1.f;
  if (m == "ste" && op.bits == 1) return 1.f;
  return 1.f / levels_minus_one(op.bits);  // ewgs, daq, dorefa, ste
}

Tensor run_quantize(const Op& op, const Tensor& x, float step) {
  NoGradGuard no_grad;
  const std::string& m = op.method;
  const QuantTarget act = QuantTarget::activation;
  Tensor y;
  if (m == "ewgs") y = ewgs_quantize(x, op.tensor("l"), op.tensor("u"), 0.f, op.bits, act);
  else if (m == "daq") y = daq_quantize_eval(x, op.tensor("l"), op.tensor("u"), op.bits, act);
  else if (m == "lsq") y = lsq_quantize(x, op.tensor("step"), op.bits, act, 1.0);
  else if (m == "dorefa") y = dorefa_activation(x, op.bits);
  else if (m == "pact") y = pact_quantize(x, op.tensor("alpha"), op.bits);
  else if (m == "sat") y = cgpact_quantize(x, op.tensor("alpha"), op.bits);
  else if (m == "ste") y = ste_quantize(x, op.bits, act, false);
  else if (m == "aqe") y = aqe_hard(x, aqe_levels_for_bits(op.bits, act), op.delta);
  else LOWBIT_FAIL("deploy: quantize op '", op.name, "' has unknown method '", m, "'");
  return levels_to_codes(y, format_of(m, op.bits), step);
}

Tensor levels_to_codes(const Tensor& y, CodeFormat format, float step) {
  const Tensor v = mul(y, 1.f / step);  // the integer values, up to float rounding
  if (format.kind != CodeKind::pow2) return v.to(DType::i8);  // rounds to nearest
  // value ±2^(c−1) -> code ±c: c counts the thresholds ¾·2^(j−1) below |value| (between the levels).
  const Tensor a = abs(v);
  Tensor count = Tensor::zeros(v.shape(), DType::f32, v.device());
  for (int j = 1; j <= pow2_levels(format.bits); ++j) {
    const Tensor t = Tensor::full({}, 0.75f * static_cast<float>(1 << (j - 1)), DType::f32, v.device());
    count = add(count, gt(a, t).to(DType::f32));
  }
  return mul(sign(v), count).to(DType::i8);
}

}  // namespace lowbit::deploy
