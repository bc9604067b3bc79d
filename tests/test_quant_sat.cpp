// SAT quantizers: the DoReFa-tanh weight quantizer with SAT's constant rescaling (original,
// modified and centered schemes; gradient through M = max|tanh w| or M constant) and CG-PACT with
// the calibrated clip gradient. Golden vectors (sat.json: weight_fc, weight_conv, act_cgpact; the
// plain-PACT variant belongs to the PACT baseline), random tensors against the float64 reference,
// train vs eval, exact ties and boundaries, refused widths, initialization.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "quant/sat.h"
#include "tests/golden.h"
#include "tests/reference/quant_sat.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

int scheme_of(const GoldenCase& c) {
  const std::string s = c.params.at("scheme");
  return s == "original" ? 0 : s == "modified" ? 1 : 2;
}
bool autograd_max_of(const GoldenCase& c) { return c.params.at("max_grad") == "autograd"; }
bool is_weight_case(const GoldenCase& c) { return c.variant == "weight_fc" || c.variant == "weight_conv"; }

SatWeightOptions weight_options(const GoldenCase& c) {
  SatWeightOptions o;
  o.bits = c.bits;
  o.scheme = static_cast<SatScheme>(scheme_of(c));
  o.rescale = c.params.at("rescale").get<bool>();
  o.n_out = c.params.at("n_out").get<int64_t>();
  o.max_grad = autograd_max_of(c) ? SatMaxGrad::autograd : SatMaxGrad::constant;
  return o;
}

ref::Arr arr(const std::vector<double>& v, const Shape& shape) { return ref::Arr{shape, v}; }

void expect_f64(const std::vector<double>& want, const ref::Arr& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.v.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::abs(got.v[i] - want[i]), kGoldenF64Tol * (1.0 + std::abs(want[i]))) << what << "[" << i << "]";
}

// ---- the float64 reference reproduces the golden vectors to 1e-12 ----

TEST(SatReference, GoldenVectors) {
  int weights = 0, acts = 0;
  for (const GoldenCase& c : load_golden("sat")) {
    SCOPED_TRACE(c.id);
    if (is_weight_case(c)) {
      ref::SatWeightResult r = ref::sat_weight(arr(c.x, c.shape), arr(c.g, c.shape), c.bits, scheme_of(c),
                                               c.params.at("rescale").get<bool>(), c.params.at("n_out").get<int64_t>(),
                                               autograd_max_of(c));
      expect_f64(c.y, r.y, "y");
      expect_f64(c.grads.at("dx"), r.dx, "dx");
      expect_f64(c.extra_vec("Q_unscaled"), r.Q, "Q_unscaled");
      EXPECT_NEAR(r.scale, c.extra.at("scale").get<double>(), kGoldenF64Tol);
      EXPECT_NEAR(r.M, c.extra.at("tanh_max").get<double>(), kGoldenF64Tol);
      ++weights;
    } else if (c.variant == "act_cgpact") {
      ref::CgPactResult r = ref::cgpact(arr(c.x, c.shape), arr(c.g, c.shape), c.param("alpha_p"), c.bits);
      expect_f64(c.y, r.y, "y");
      expect_f64(c.grads.at("dx"), r.dx, "dx");
      EXPECT_LE(std::abs(r.dalpha - c.grads.at("dalpha")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("dalpha")));
      ++acts;
    }
  }
  EXPECT_EQ(weights, 34);
  EXPECT_EQ(acts, 8);
}

// ---- the f32 ops on every device ----

class SatTest : public DeviceTest {};

TEST_P(SatTest, GoldenWeights) {
  int n = 0;
  for (const GoldenCase& c : load_golden("sat")) {
    if (!is_weight_case(c)) continue;
    SCOPED_TRACE(c.id);
    Tensor w = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor stats;
    Tensor y = sat_weight_quantize(w, weight_options(c), &stats);
    expect_golden(c.y, y.to_vector(), "y");
    std::vector<float> st = stats.to_vector();
    EXPECT_NEAR(st[0], c.extra.at("tanh_max").get<double>(), kGoldenF32Tol);
    EXPECT_NEAR(st[1], c.extra.at("scale").get<double>(), kGoldenF32Tol * c.extra.at("scale").get<double>());
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), w.grad().to_vector(), "dx");
    ++n;
  }
  EXPECT_EQ(n, 34);
}

TEST_P(SatTest, GoldenCgPact) {
  int n = 0;
  for (const GoldenCase& c : load_golden("sat")) {
    if (c.variant != "act_cgpact") continue;
    SCOPED_TRACE(c.id);
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor a = Tensor::full({}, static_cast<float>(c.param("alpha_p")), DType::f32, device()).requires_grad_();
    Tensor y = cgpact_quantize(x, a, c.bits);
    expect_golden(c.y, y.to_vector(), "y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    EXPECT_EQ(a.grad().shape(), Shape{});
    expect_golden_param(c.grads.at("dalpha")[0], a.grad().item(), c.abs_sum("dalpha"), "dalpha");
    ++n;
  }
  EXPECT_EQ(n, 8);
}

// Eval mode of the quantizers reproduces the golden forward values (the hard quantizer).
TEST_P(SatTest, GoldenEvalMode) {
  for (const GoldenCase& c : load_golden("sat")) {
    SCOPED_TRACE(c.id);
    QuantConfig cfg{"sat", c.bits, QuantTarget::weight, {}};
    if (is_weight_case(c)) {
      if (c.shape.size() != 2 && c.shape.size() != 4) continue;
      cfg.options = {{"scheme", scheme_of(c)}, {"max_grad", autograd_max_of(c) ? 0 : 1}, {"rescale_conv", 1}};
    } else if (c.variant == "act_cgpact") {
      cfg.target = QuantTarget::activation;
      cfg.options = {{"alpha_init", c.param("alpha_p")}};
    } else {
      continue;
    }
    auto q = make_sat_quantizer(cfg);
    q->to(device());
    q->train(false);
    Tensor y = q->forward(golden_tensor(c.x, c.shape, device()));
    EXPECT_FALSE(y.requires_grad());
    expect_golden(c.y, y.to_vector(), "eval y");
  }
}

// ---- random tensors against the float64 reference ----

TEST_P(SatTest, RandomWeightsMatchReference) {
  for (Shape shape : {Shape{16, 40}, Shape{8, 3, 3, 5}, Shape{1001}}) {
    for (int scheme = 0; scheme < 3; ++scheme) {
      for (int bits : {1, 2, 3, 4, 8}) {
        for (bool autograd_max : {true, false}) {
          SCOPED_TRACE(testing::Message() << shape_str(shape) << " scheme " << scheme << " b" << bits);
          ref::Arr w = random_arr(shape, -2.0, 2.0, 11 + bits), g = random_arr(shape, -1.0, 1.0, 23 + bits);
          const int64_t n_out = sat_n_out(shape);
          ref::SatWeightResult r = ref::sat_weight(w, g, bits, scheme, true, n_out, autograd_max);
          SatWeightOptions o{bits, static_cast<SatScheme>(scheme), true, n_out,
                             autograd_max ? SatMaxGrad::autograd : SatMaxGrad::constant};
          Tensor wt = from_ref(w, device()).requires_grad_();
          Tensor y = sat_weight_quantize(wt, o);
          expect_close(r.y, y, kForwardAtol, kForwardRtol, "y");
          y.backward(from_ref(g, device()));
          // The max element's gradient is a sum over the whole tensor.
          expect_close(r.dx, wt.grad(), kAccumAtol, kAccumRtol, "dx");
        }
      }
    }
  }
}

TEST_P(SatTest, RandomCgPactMatchesReference) {
  for (int bits : {1, 2, 3, 4, 8}) {
    for (double alpha_p : {2.5, -1.75, 0.3}) {
      SCOPED_TRACE(testing::Message() << "b" << bits << " alpha_p " << alpha_p);
      ref::Arr x = random_arr({5000}, -1.0, 3.0, 7 + bits), g = random_arr({5000}, -1.0, 1.0, 5 + bits);
      ref::CgPactResult r = ref::cgpact(x, g, alpha_p, bits);
      Tensor xt = from_ref(x, device()).requires_grad_();
      Tensor a = Tensor::full({}, static_cast<float>(alpha_p), DType::f32, device()).requires_grad_();
      Tensor y = cgpact_quantize(xt, a, bits);
      expect_close(r.y, y, kForwardAtol, kForwardRtol, "y");
      y.backward(from_ref(g, device()));
      expect_close(r.dx, xt.grad(), kForwardAtol, kForwardRtol, "dx");
      double abs_sum = 0.0;
      for (double v : g.v) abs_sum += std::abs(v);
      EXPECT_NEAR(a.grad().item(), r.dalpha, kForwardAtol * (1.0 + abs_sum)) << "dalpha summed over the tensor";
    }
  }
}

// Non-contiguous input: the op makes it contiguous and the gradient lands on the view's base.
TEST_P(SatTest, NonContiguousWeight) {
  ref::Arr w = random_arr({6, 10}, -2.0, 2.0, 3);
  Tensor base = from_ref(w, device()).requires_grad_();
  Tensor wt = base.transpose(0, 1);
  Tensor y = sat_weight_quantize(wt, SatWeightOptions{2, SatScheme::centered, true, 10, SatMaxGrad::autograd});
  ref::SatWeightResult r = ref::sat_weight(to_ref(wt.contiguous()), ref::make({10, 6}, 1.0), 2, 2, true, 10, true);
  expect_close(r.y, y, kForwardAtol, kForwardRtol, "y");
  sum(y).backward();
  EXPECT_EQ(base.grad().shape(), (Shape{6, 10}));
}

// ---- ties and boundaries, exact ----

TEST_P(SatTest, WeightTiesExact) {
  // w = 0 gives u = 1/2 exactly; w = ±1.5 attain M together (a max tie).
  Tensor w = Tensor::from_vector({0.f, 1.5f, -1.5f, 0.5f}, {2, 2}, device());
  auto run = [&](SatScheme s, int bits) {
    return sat_weight_quantize(w, SatWeightOptions{bits, s, false, 2, SatMaxGrad::autograd}).to_vector();
  };
  EXPECT_EQ(run(SatScheme::original, 1)[0], -1.f);  // round(0.5) = 0 (half to even) -> Q = -1
  EXPECT_EQ(run(SatScheme::original, 2)[0], 2.f * (2.f / 3.f) - 1.f);  // round(1.5) = 2 -> Q = 1/3
  EXPECT_EQ(run(SatScheme::modified, 2)[0], 0.f);     // floor(2) = 2 -> q = 1/2
  EXPECT_EQ(run(SatScheme::centered, 2)[0], 0.25f);   // (2 + 1/2)/4 = 5/8 -> Q = 1/4
  for (SatScheme s : {SatScheme::original, SatScheme::centered}) {
    std::vector<float> y = run(s, 3);
    EXPECT_EQ(y[1], -y[2]) << "symmetric schemes map the max elements to the outermost levels";
  }
  EXPECT_EQ(run(SatScheme::modified, 3)[1], 0.75f);   // u = 1: floor(8) clamped to 7 -> q = 7/8
  EXPECT_EQ(run(SatScheme::modified, 3)[2], -1.f);    // u = 0 -> q = 0
  EXPECT_EQ(run(SatScheme::centered, 3)[1], 0.875f);  // (7 + 1/2)/8 -> Q = 7/8
  // The max path: with g = 1 on the two tied elements only, dL/dM = −(t − t)/M² = 0 and each gets
  // g(1 − t²)/M; with g on one of them it gets half of dL/dM.
  Tensor wg = w.clone().requires_grad_();
  Tensor y = sat_weight_quantize(wg, SatWeightOptions{2, SatScheme::original, false, 2, SatMaxGrad::autograd});
  y.backward(Tensor::from_vector({0.f, 1.f, 0.f, 0.f}, {2, 2}, device()));
  ref::SatWeightResult r = ref::sat_weight(to_ref(w), ref::from({2, 2}, {0, 1, 0, 0}), 2, 0, false, 2, true);
  expect_close(r.dx, wg.grad(), 1e-6, 1e-6, "dx with a max tie");
  EXPECT_NE(wg.grad().to_vector()[2], 0.f) << "the other tied element receives half of dL/dM";
}

TEST_P(SatTest, CgPactBoundariesExact) {
  // α = 3, 2 bits (steps 3): levels 0, 1, 2, 3 (x/α·3 = x). Ties at 0.5 and 1.5 go to even.
  Tensor x = Tensor::from_vector({-1.f, 0.f, 0.5f, 1.5f, 2.5f, 3.f, 4.f, 1.f}, {8}, device()).requires_grad_();
  Tensor a = Tensor::full({}, 3.f, DType::f32, device()).requires_grad_();
  Tensor y = cgpact_quantize(x, a, 2);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 2.f, 2.f, 3.f, 3.f, 1.f}));
  y.backward(Tensor::ones({8}, DType::f32, device()));
  // dx: strict 0 < x < α, so x = 0 and x = α get 0.
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 1.f, 1.f, 1.f, 0.f, 0.f, 1.f}));
  // dα: x ≥ α → 1 (two elements), x ≤ 0 → 0, else q(x/α) − x/α: (0 − 1/6) + (2/3 − 1/2) + (2/3 − 5/6) + 0.
  EXPECT_FLOAT_EQ(a.grad().item(), 2.f - 1.f / 6.f + 1.f / 6.f - 1.f / 6.f);
  // A negative α_p flips the sign of its gradient and clips at |α_p|.
  Tensor an = Tensor::full({}, -3.f, DType::f32, device()).requires_grad_();
  Tensor yn = cgpact_quantize(x.detach(), an, 2);
  EXPECT_EQ(yn.to_vector(), y.to_vector());
  sum(yn).backward();
  EXPECT_FLOAT_EQ(an.grad().item(), -a.grad().item());
}

// ---- the Quantizer classes ----

TEST_P(SatTest, TrainAndEvalAgree) {
  Tensor w = from_ref(random_arr({10, 12}, -1.5, 1.5, 5), device());
  auto q = make_sat_quantizer(QuantConfig{"sat", 3, QuantTarget::weight, {{"scheme", 2}}});
  q->to(device());
  Tensor wg = w.clone().requires_grad_();
  Tensor yt = q->forward(wg);
  EXPECT_TRUE(yt.requires_grad());
  q->train(false);
  Tensor ye = q->forward(wg);
  EXPECT_FALSE(ye.requires_grad());
  EXPECT_EQ(yt.to_vector(), ye.to_vector());
  // Rank-2 weights are rescaled (FC): std(y) = 1/√n_out.
  std::vector<float> v = ye.to_vector();
  double m = 0, ss = 0;
  for (float e : v) m += e;
  m /= v.size();
  for (float e : v) ss += (e - m) * (e - m);
  EXPECT_NEAR(std::sqrt(ss / (v.size() - 1)), 1.0 / std::sqrt(10.0), 1e-5);
  // Conv weights are not rescaled unless rescale_conv is set: values are the levels Q.
  Tensor wc = from_ref(random_arr({4, 3, 3, 2}, -1.5, 1.5, 6), device());
  for (float e : q->forward(wc).to_vector()) EXPECT_EQ(std::fmod(e * 8.f + 8.f, 1.f), 0.f) << e;
}

// The weight scheme's default depends on the width: centered at 1–2 bits (modified's levels are
// lopsided there: {−1, 0} and {−1, −½, 0, ½}), modified (AdaBits' default) from 3 bits.
TEST_P(SatTest, DefaultWeightSchemePerWidth) {
  for (int bits = 1; bits <= 8; ++bits) {
    auto q = make_sat_quantizer(QuantConfig{"sat", bits, QuantTarget::weight, {}});
    auto& sat = dynamic_cast<SatWeightQuantizer&>(*q);
    EXPECT_EQ(sat.options_for({4, 3, 3, 2}).scheme, bits <= 2 ? SatScheme::centered : SatScheme::modified) << bits;
    auto explicit_q = make_sat_quantizer(QuantConfig{"sat", bits, QuantTarget::weight, {{"scheme", 1}}});
    EXPECT_EQ(dynamic_cast<SatWeightQuantizer&>(*explicit_q).options_for({4, 3, 3, 2}).scheme, SatScheme::modified);
  }
  // At 1 bit the default gives symmetric signs ±½ (before the rescale), never 0.
  Tensor w = from_ref(random_arr({4, 3, 3, 2}, -1.5, 1.5, 8), device());
  auto q1 = make_sat_quantizer(QuantConfig{"sat", 1, QuantTarget::weight, {}});
  q1->to(device());
  q1->train(false);
  const std::vector<float> y = q1->forward(w).to_vector(), wv = w.to_vector();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], wv[i] < 0 ? -0.5f : 0.5f) << wv[i];
}

TEST_P(SatTest, CgPactQuantizerParameterAndInit) {
  // clip_init=1: AdaBits' constants (the default fits the first batch: test_quant_clip_init.cpp).
  auto conv = make_sat_quantizer(QuantConfig{"sat", 4, QuantTarget::activation, {{"clip_init", 1.0}}});
  auto fc = make_sat_quantizer(QuantConfig{"sat", 4, QuantTarget::activation, {{"clip_init", 1.0}}});
  auto set = make_sat_quantizer(QuantConfig{"sat", 4, QuantTarget::activation, {{"alpha_init", 6.0}}});
  ASSERT_EQ(conv->named_parameters().size(), 1u);
  EXPECT_EQ(conv->named_parameters()[0].first, "alpha");
  conv->initialize(Tensor::zeros({2, 4, 4, 3}));
  fc->initialize(Tensor::zeros({2, 7}));
  set->initialize(Tensor::zeros({2, 7}));
  EXPECT_TRUE(fc->initialized());
  EXPECT_EQ(conv->parameters()[0].item(), 8.f);
  EXPECT_EQ(fc->parameters()[0].item(), 10.f);
  EXPECT_EQ(set->parameters()[0].item(), 6.f);
  // Train mode: α receives a gradient; eval: the same values, no graph.
  fc->to(device());
  Tensor x = from_ref(random_arr({3, 7}, -2.0, 12.0, 9), device());
  Tensor y = fc->forward(x);
  sum(y).backward();
  EXPECT_TRUE(fc->parameters()[0].grad().defined());
  fc->train(false);
  Tensor ye = fc->forward(x);
  EXPECT_FALSE(ye.requires_grad());
  EXPECT_EQ(ye.to_vector(), y.to_vector());
}

TEST_P(SatTest, UnsupportedWidthsAndOptionsRefused) {
  for (int bits : {0, 9, 16, 32}) {
    for (QuantTarget t : {QuantTarget::weight, QuantTarget::activation}) {
      try {
        make_sat_quantizer(QuantConfig{"sat", bits, t, {}});
        ADD_FAILURE() << "accepted " << bits << " bits";
      } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("sat"), std::string::npos) << msg;
        EXPECT_NE(msg.find(quant_target_name(t)), std::string::npos) << msg;
        EXPECT_NE(msg.find("1–8"), std::string::npos) << msg;
      }
    }
  }
  EXPECT_THROW(make_sat_quantizer(QuantConfig{"sat", 2, QuantTarget::weight, {{"scheme", 3}}}), Error);
  EXPECT_THROW(make_sat_quantizer(QuantConfig{"sat", 2, QuantTarget::weight, {{"max_grad", 2}}}), Error);
  Tensor x = Tensor::zeros({4}, DType::f32, device());
  EXPECT_THROW(cgpact_quantize(x, Tensor::zeros({2}, DType::f32, device()), 2), Error);
}

// Degenerate weights: all zero (M = 0) and constant Q (std = 0) stay finite.
TEST_P(SatTest, DegenerateWeightsFinite) {
  Tensor z = Tensor::zeros({3, 4}, DType::f32, device()).requires_grad_();
  Tensor y = sat_weight_quantize(z, SatWeightOptions{2, SatScheme::original, true, 3, SatMaxGrad::autograd});
  sum(y).backward();
  for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v));
  for (float v : z.grad().to_vector()) EXPECT_TRUE(std::isfinite(v));
}

LOWBIT_INSTANTIATE_DEVICES(SatTest);

}  // namespace
}  // namespace lowbit::test
