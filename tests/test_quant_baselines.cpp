// Tests of the baseline quantizers (STE / saturating STE, BNN, XNOR-Net, DoReFa, PACT): the
// float64 references against the golden vectors (bnn.json, xnor.json, dorefa.json, sat.json
// act_pact_plain) at 1e-12; the f32 ops on every device against the same vectors at the README's
// float32 tolerance and against the references on random tensors; exact ties and boundaries;
// train vs eval; the makers' width checks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/autograd.h"
#include "core/error.h"
#include "quant/bnn.h"
#include "quant/dorefa.h"
#include "quant/pact.h"
#include "quant/ste.h"
#include "quant/xnor.h"
#include "tests/golden.h"
#include "tests/reference/quant_baseline.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

// Output of one f32 op run: forward value, dx, and the scalar parameter's gradient (PACT).
struct F32Run {
  std::vector<float> y, dx;
  float dparam = 0.f;
};

// Runs op(x) (x requires grad), backpropagates g and returns y, dx.
F32Run run_op(const std::function<Tensor(const Tensor&)>& op, const std::vector<double>& xv,
              const std::vector<double>& gv, const Shape& shape, Device device) {
  Tensor x = golden_tensor(xv, shape, device).requires_grad_();
  Tensor y = op(x);
  y.backward(golden_tensor(gv, shape, device));
  return {y.to_vector(), x.grad().to_vector(), 0.f};
}

F32Run run_pact(const std::vector<double>& xv, const std::vector<double>& gv, const Shape& shape, float alpha_p,
                int bits, Device device) {
  Tensor x = golden_tensor(xv, shape, device).requires_grad_();
  Tensor a = Tensor::from_vector({alpha_p}, {}, device).requires_grad_();
  Tensor y = pact_quantize(x, a, bits);
  y.backward(golden_tensor(gv, shape, device));
  return {y.to_vector(), x.grad().to_vector(), a.grad().item()};
}

ref::Arr arr(const std::vector<double>& v, const Shape& shape) { return ref::Arr{shape, v}; }

void expect_ref_golden(const std::vector<double>& want, const ref::Arr& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.v.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::abs(got.v[i] - want[i]), kGoldenF64Tol * (1.0 + std::abs(want[i])))
        << what << "[" << i << "]: want " << want[i] << " got " << got.v[i];
}

// Compares an f32 run with a float64 reference result (element-wise and parameter tolerances of
// the golden README).
void expect_run_matches(const ref::QuantResult& want, const F32Run& got, const std::string& what,
                        double param_abs_sum = 0.0) {
  expect_golden(want.y.v, got.y, what + " y");
  expect_golden(want.dx.v, got.dx, what + " dx");
  expect_golden_param(want.dparam, got.dparam, param_abs_sum, what + " dparam");
}

std::vector<GoldenCase> pact_cases() {
  std::vector<GoldenCase> out;
  for (auto& c : load_golden("sat"))
    if (c.variant == "act_pact_plain") out.push_back(std::move(c));
  return out;
}

// ---- float64 references against the golden vectors (1e-12) ----

TEST(QuantBaselineReference, BnnMatchesGolden) {
  auto cases = load_golden("bnn");
  ASSERT_EQ(cases.size(), 2u);
  for (const auto& c : cases) {
    auto r = ref::ste_quant(arr(c.x, c.shape), arr(c.g, c.shape), 1, 0.0, true);
    expect_ref_golden(c.y, r.y, c.id + " y");
    expect_ref_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST(QuantBaselineReference, XnorMatchesGolden) {
  auto cases = load_golden("xnor");
  ASSERT_EQ(cases.size(), 2u);
  for (const auto& c : cases) {
    auto r = ref::xnor_weight_quant(arr(c.x, c.shape), arr(c.g, c.shape));
    expect_ref_golden(c.y, r.y, c.id + " y");
    expect_ref_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST(QuantBaselineReference, DorefaMatchesGolden) {
  auto cases = load_golden("dorefa");
  ASSERT_EQ(cases.size(), 8u);
  for (const auto& c : cases) {
    auto r = c.variant == "weight" ? ref::dorefa_weight_quant(arr(c.x, c.shape), arr(c.g, c.shape), c.bits)
                                   : ref::dorefa_act_quant(arr(c.x, c.shape), arr(c.g, c.shape), c.bits);
    expect_ref_golden(c.y, r.y, c.id + " y");
    expect_ref_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST(QuantBaselineReference, PactMatchesGolden) {
  auto cases = pact_cases();
  ASSERT_EQ(cases.size(), 8u);
  for (const auto& c : cases) {
    auto r = ref::pact_quant(arr(c.x, c.shape), arr(c.g, c.shape), c.param("alpha_p"), c.bits);
    expect_ref_golden(c.y, r.y, c.id + " y");
    expect_ref_golden(c.grads.at("dx"), r.dx, c.id + " dx");
    double want = c.grads.at("dalpha")[0];
    EXPECT_LE(std::abs(r.dparam - want), kGoldenF64Tol * (1.0 + c.abs_sum("dalpha"))) << c.id << " dalpha";
  }
}

// ---- f32 ops on every device ----

class QuantBaselines : public DeviceTest {};

TEST_P(QuantBaselines, BnnGolden) {
  for (const auto& c : load_golden("bnn")) {
    F32Run r = run_op([](const Tensor& x) { return bnn_sign(x); }, c.x, c.g, c.shape, device());
    expect_golden(c.y, r.y, c.id + " y");
    expect_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST_P(QuantBaselines, XnorGolden) {
  for (const auto& c : load_golden("xnor")) {
    F32Run r = run_op([](const Tensor& w) { return xnor_weight(w); }, c.x, c.g, c.shape, device());
    expect_golden(c.y, r.y, c.id + " y");
    expect_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST_P(QuantBaselines, DorefaGolden) {
  for (const auto& c : load_golden("dorefa")) {
    int bits = c.bits;
    bool weight = c.variant == "weight";
    F32Run r = run_op([&](const Tensor& x) { return weight ? dorefa_weight(x, bits) : dorefa_activation(x, bits); },
                      c.x, c.g, c.shape, device());
    expect_golden(c.y, r.y, c.id + " y");
    expect_golden(c.grads.at("dx"), r.dx, c.id + " dx");
  }
}

TEST_P(QuantBaselines, PactGolden) {
  for (const auto& c : pact_cases()) {
    F32Run r = run_pact(c.x, c.g, c.shape, static_cast<float>(c.param("alpha_p")), c.bits, device());
    expect_golden(c.y, r.y, c.id + " y");
    expect_golden(c.grads.at("dx"), r.dx, c.id + " dx");
    expect_golden_param(c.grads.at("dalpha")[0], r.dparam, c.abs_sum("dalpha"), c.id + " dalpha");
  }
}

// Random tensors (with values beyond the clip ranges) against the float64 references.
TEST_P(QuantBaselines, RandomMatchesReference) {
  Shape shape{6, 5, 3, 7};
  ref::Arr x = random_arr(shape, -2.5, 2.5, 11), g = random_arr(shape, -1.0, 1.0, 12);
  auto op = [&](const std::function<Tensor(const Tensor&)>& f) { return run_op(f, x.v, g.v, shape, device()); };
  for (int bits = 1; bits <= 8; ++bits) {
    std::string b = " bits " + std::to_string(bits);
    for (bool sat : {false, true}) {
      expect_run_matches(ref::ste_quant(x, g, bits, 0.0, sat),
                         op([&](const Tensor& t) { return ste_quantize(t, bits, QuantTarget::activation, sat); }),
                         "ste act" + b);
      expect_run_matches(ref::ste_quant(x, g, bits, -1.0, sat),
                         op([&](const Tensor& t) { return ste_quantize(t, bits, QuantTarget::weight, sat); }),
                         "ste weight" + b);
    }
    expect_run_matches(ref::dorefa_weight_quant(x, g, bits),
                       op([&](const Tensor& t) { return dorefa_weight(t, bits); }), "dorefa weight" + b);
    expect_run_matches(ref::dorefa_act_quant(x, g, bits),
                       op([&](const Tensor& t) { return dorefa_activation(t, bits); }), "dorefa act" + b);
    for (float alpha_p : {1.75f, -0.8f}) {
      ref::QuantResult want = ref::pact_quant(x, g, alpha_p, bits);
      double s = 0.0;
      for (size_t i = 0; i < x.v.size(); ++i) s += x.v[i] >= std::abs(alpha_p) ? std::abs(g.v[i]) : 0.0;
      expect_run_matches(want, run_pact(x.v, g.v, shape, alpha_p, bits, device()), "pact" + b, s);
    }
  }
  expect_run_matches(ref::xnor_weight_quant(x, g), op([](const Tensor& t) { return xnor_weight(t); }), "xnor");
  expect_run_matches(ref::ste_quant(x, g, 1, 0.0, true), op([](const Tensor& t) { return bnn_sign(t); }), "bnn");
}

// A large tensor exercises the vectorized and multi-block paths of the kernels (float4 body plus
// tail: numel not a multiple of 4) and the in-kernel reductions.
TEST_P(QuantBaselines, LargeTensorMatchesReference) {
  Shape shape{257, 1031};
  ref::Arr x = random_arr(shape, -3.0, 3.0, 21), g = random_arr(shape, -1.0, 1.0, 22);
  auto op = [&](const std::function<Tensor(const Tensor&)>& f) { return run_op(f, x.v, g.v, shape, device()); };
  double s = 0.0;
  for (size_t i = 0; i < x.v.size(); ++i) s += x.v[i] >= 1.5 ? std::abs(g.v[i]) : 0.0;
  expect_run_matches(ref::pact_quant(x, g, 1.5, 4), run_pact(x.v, g.v, shape, 1.5f, 4, device()), "pact", s);
  expect_run_matches(ref::dorefa_weight_quant(x, g, 3), op([](const Tensor& t) { return dorefa_weight(t, 3); }),
                     "dorefa w3");
  expect_run_matches(ref::dorefa_weight_quant(x, g, 1), op([](const Tensor& t) { return dorefa_weight(t, 1); }),
                     "dorefa w1");
  expect_run_matches(ref::xnor_weight_quant(x, g), op([](const Tensor& t) { return xnor_weight(t); }), "xnor");
  expect_run_matches(ref::ste_quant(x, g, 2, 0.0, true),
                     op([](const Tensor& t) { return ste_quantize(t, 2, QuantTarget::activation, true); }), "ste");
}

// Ties and boundaries, exact: sign(0) = +1; the saturating mask includes |x| = 1; STE levels at the
// clip bounds; DoReFa's activation mask includes 0 and 1 and its 1-bit tie 0.5 rounds to 0;
// PACT's dx mask excludes 0 and α while its α term includes α.
TEST_P(QuantBaselines, TiesAndBoundariesExact) {
  const float eps = std::ldexp(1.f, -12);
  std::vector<double> xs{0.0, 1.0, -1.0, 1.0 + eps, -1.0 - eps, 0.5, 2.0};
  std::vector<double> ones(xs.size(), 1.0);
  Shape shape{static_cast<int64_t>(xs.size())};
  F32Run bnn = run_op([](const Tensor& t) { return bnn_sign(t); }, xs, ones, shape, device());
  EXPECT_EQ(bnn.y, (std::vector<float>{1, 1, -1, 1, -1, 1, 1}));
  EXPECT_EQ(bnn.dx, (std::vector<float>{1, 1, 1, 0, 0, 1, 0}));
  F32Run ste = run_op([](const Tensor& t) { return ste_quantize(t, 2, QuantTarget::activation, false); }, xs, ones,
                      shape, device());
  EXPECT_EQ(ste.y[0], 0.f);
  EXPECT_EQ(ste.y[1], 1.f);
  EXPECT_EQ(ste.y[2], 0.f);
  EXPECT_EQ(ste.dx, std::vector<float>(xs.size(), 1.f));  // plain STE: identity everywhere
  F32Run stew = run_op([](const Tensor& t) { return ste_quantize(t, 3, QuantTarget::weight, false); }, xs, ones, shape,
                       device());
  EXPECT_EQ(stew.y[1], 1.f);
  EXPECT_EQ(stew.y[2], -1.f);
  F32Run act1 = run_op([](const Tensor& t) { return dorefa_activation(t, 1); }, xs, ones, shape, device());
  EXPECT_EQ(act1.y, (std::vector<float>{0, 1, 0, 1, 0, 0, 1}));  // 0.5 ties to even (0)
  EXPECT_EQ(act1.dx, (std::vector<float>{1, 1, 0, 0, 0, 1, 0}));
  F32Run w1 = run_op([](const Tensor& t) { return dorefa_weight(t, 1); }, {0.0, -2.0}, {1.0, 1.0}, {2}, device());
  EXPECT_EQ(w1.y, (std::vector<float>{1.f, -1.f}));  // E = 1, sign(0) = +1
  EXPECT_EQ(w1.dx, (std::vector<float>{1.f, 1.f}));
  // PACT α = 2, 2 bits: x = 1 is the tie 1.5 -> 2 levels (even), x = α: dx 0, α-term 1.
  F32Run p = run_pact({0.0, 1.0, 2.0, 3.0, -1.0, 0.5}, {1, 1, 1, 1, 1, 1}, {6}, 2.f, 2, device());
  EXPECT_EQ(p.y, (std::vector<float>{0.f, 4.f / 3.f, 2.f, 2.f, 0.f, 2.f / 3.f}));
  EXPECT_EQ(p.dx, (std::vector<float>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(p.dparam, 2.f);
}

// XNOR: an all-zero channel gets α = 0, y = 0 and dW = 0; α is per output channel of OHWI.
TEST_P(QuantBaselines, XnorPerChannelAndZeroChannel) {
  std::vector<double> w{0.5, -0.25, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0};
  std::vector<double> g{1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.5, 2.0};
  F32Run r = run_op([](const Tensor& t) { return xnor_weight(t); }, w, g, {2, 1, 2, 2}, device());
  float a0 = (0.5f + 0.25f + 2.f) / 4.f;
  EXPECT_EQ(r.y, (std::vector<float>{a0, -a0, a0, a0, 0, 0, 0, 0}));
  EXPECT_EQ(std::vector<float>(r.dx.begin() + 4, r.dx.end()), std::vector<float>(4, 0.f));
}

// DoReFa k ≥ 2: elements tying for max|tanh w| share the max-path gradient evenly.
TEST_P(QuantBaselines, DorefaMaxTieShared) {
  std::vector<double> w{2.0, -2.0, 0.3, -0.7, 1.1}, g{0.5, -1.0, 1.0, 0.25, -0.5};
  Shape shape{5};
  auto want = ref::dorefa_weight_quant(arr(w, shape), arr(g, shape), 2);
  expect_run_matches(want, run_op([](const Tensor& t) { return dorefa_weight(t, 2); }, w, g, shape, device()),
                     "dorefa tie");
}

// Quantizers: train and eval forwards agree (these baselines' training forward is the hard
// quantizer); train mode records the custom backward; PACT's α is a registered parameter that
// receives its gradient.
TEST_P(QuantBaselines, QuantizerTrainEval) {
  Shape shape{4, 6};
  ref::Arr xr = random_arr(shape, -2.0, 2.0, 5);
  Tensor x = from_ref(xr, device());
  struct Spec {
    const char* name;
    std::function<std::shared_ptr<Quantizer>(const QuantConfig&)> make;
    int bits;
    QuantTarget target;
  };
  std::vector<Spec> specs{{"ste", make_ste_quantizer, 3, QuantTarget::activation},
                          {"ste", make_ste_quantizer, 2, QuantTarget::weight},
                          {"bnn", make_bnn_quantizer, 1, QuantTarget::weight},
                          {"xnor", make_xnor_quantizer, 1, QuantTarget::weight},
                          {"xnor", make_xnor_quantizer, 1, QuantTarget::activation},
                          {"dorefa", make_dorefa_quantizer, 2, QuantTarget::weight},
                          {"dorefa", make_dorefa_quantizer, 4, QuantTarget::activation},
                          {"pact", make_pact_quantizer, 2, QuantTarget::activation},
                          {"pact", make_pact_quantizer, 2, QuantTarget::weight}};
  for (const auto& s : specs) {
    QuantConfig cfg{s.name, s.bits, s.target, {{"alpha", 1.5}}};
    auto q = s.make(cfg);
    q->to(device());
    q->initialize(x);
    EXPECT_TRUE(q->initialized()) << cfg.str();
    Tensor xt = x.detach().requires_grad_();
    Tensor y_train = (*q)(xt);
    EXPECT_NE(y_train.grad_fn(), nullptr) << cfg.str();
    y_train.backward(Tensor::ones(shape, DType::f32, device()));
    EXPECT_TRUE(xt.grad().defined()) << cfg.str();
    q->eval();
    Tensor y_eval = (*q)(x);
    EXPECT_EQ(y_train.to_vector(), y_eval.to_vector()) << cfg.str();
  }
  auto pact = make_pact_quantizer({"pact", 4, QuantTarget::activation, {{"alpha", 1.5}}});
  auto params = pact->named_parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "alpha");
  EXPECT_EQ(params[0].second.item(), 1.5f);
  EXPECT_EQ(make_pact_quantizer({"pact", 4, QuantTarget::activation, {}})->named_parameters()[0].second.item(), 10.f);
  pact->to(device());
  Tensor y = (*pact)(x);
  y.backward(Tensor::ones(shape, DType::f32, device()));
  double want = 0.0;
  for (double v : xr.v) want += v >= 1.5 ? 1.0 : 0.0;
  EXPECT_EQ(pact->named_parameters()[0].second.grad().item(), static_cast<float>(want));
  EXPECT_TRUE(make_pact_quantizer({"pact", 4, QuantTarget::weight, {}})->named_parameters().empty());
}

// Makers refuse widths the method does not define, naming the method, target and widths.
TEST(QuantBaselineMakers, UnsupportedWidthsRefused) {
  auto refused = [](const std::function<std::shared_ptr<Quantizer>(const QuantConfig&)>& make, const QuantConfig& c,
                    const std::string& method) {
    try {
      make(c);
      ADD_FAILURE() << c.str() << " was accepted";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(method), std::string::npos) << msg;
      EXPECT_NE(msg.find(quant_target_name(c.target)), std::string::npos) << msg;
      EXPECT_NE(msg.find("widths"), std::string::npos) << msg;
    }
  };
  refused(make_bnn_quantizer, {"bnn", 2, QuantTarget::weight, {}}, "bnn");
  refused(make_xnor_quantizer, {"xnor", 4, QuantTarget::activation, {}}, "xnor");
  refused(make_ste_quantizer, {"ste", 9, QuantTarget::weight, {}}, "ste");
  refused(make_ste_quantizer, {"ste", 32, QuantTarget::activation, {}}, "ste");
  refused(make_dorefa_quantizer, {"dorefa", 0, QuantTarget::weight, {}}, "dorefa");
  refused(make_pact_quantizer, {"pact", 9, QuantTarget::activation, {}}, "pact");
  refused(make_pact_quantizer, {"pact", 0, QuantTarget::weight, {}}, "pact");
  EXPECT_THROW(ste_quantize(Tensor::zeros({3}), 0, QuantTarget::weight, false), Error);
  EXPECT_THROW(xnor_weight(Tensor::zeros({3})), Error);
  EXPECT_THROW(pact_quantize(Tensor::zeros({3}), Tensor::ones({2}), 2), Error);
}

LOWBIT_INSTANTIATE_DEVICES(QuantBaselines);

}  // namespace
}  // namespace lowbit::test
