// AQE (asymptotic-quantized estimator): golden vectors (aqe.json: sign, ternary, pow2 at α = ½
// and ¾; train y, dx and eval y), random tensors against the float64 reference, exact thresholds
// and mask boundaries, the α buffer and set_alpha, train vs eval, refused widths, the weight clip.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/ops/reduce.h"
#include "quant/aqe.h"
#include "tests/golden.h"
#include "tests/reference/quant_aqe.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

AqeLevels levels_of(const std::string& h) {
  return h == "sign" ? AqeLevels::sign : h == "ternary" ? AqeLevels::ternary : AqeLevels::pow2;
}
float delta_of(const GoldenCase& c) {
  return c.has_param("delta") ? static_cast<float>(c.param("delta")) : kAqeDefaultDelta;
}

TEST(AqeReference, GoldenVectors) {
  int n = 0;
  for (const GoldenCase& c : load_golden("aqe")) {
    SCOPED_TRACE(c.id);
    const std::string h = c.params.at("h");
    ref::AqeResult r = ref::aqe(ref::Arr{c.shape, c.x}, ref::Arr{c.shape, c.g}, c.param("alpha"), h,
                                c.has_param("delta") ? c.param("delta") : 0.5);
    if (h == "pow2") {
      EXPECT_EQ(c.params.at("thresholds").get<std::vector<double>>(), (std::vector<double>{0.125, 0.375, 0.75}));
    }
    for (size_t i = 0; i < c.x.size(); ++i) {
      EXPECT_LE(std::abs(r.y.v[i] - c.y[i]), kGoldenF64Tol * (1 + std::abs(c.y[i]))) << "y " << i;
      EXPECT_LE(std::abs(r.dx.v[i] - c.grads.at("dx")[i]), kGoldenF64Tol * (1 + std::abs(c.grads.at("dx")[i])))
          << "dx " << i;
      EXPECT_EQ(r.y_eval.v[i], c.extra_vec("y_eval")[i]) << "y_eval " << i;  // discrete: exact
    }
    ++n;
  }
  EXPECT_EQ(n, 6);
}

class AqeTest : public DeviceTest {};

TEST_P(AqeTest, GoldenVectors) {
  for (const GoldenCase& c : load_golden("aqe")) {
    SCOPED_TRACE(c.id);
    const AqeLevels lv = levels_of(c.params.at("h"));
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor alpha = Tensor::full({}, static_cast<float>(c.param("alpha")), DType::f32, device());
    Tensor y = aqe_quantize(x, alpha, lv, delta_of(c));
    expect_golden(c.y, y.to_vector(), "y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    // Eval: the hard h, exactly; through the op and through the quantizer.
    std::vector<double> want = c.extra_vec("y_eval");
    std::vector<float> he = aqe_hard(x.detach(), lv, delta_of(c)).to_vector();
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(he[i], want[i]) << "y_eval " << i;
    QuantConfig cfg{"aqe", c.bits, QuantTarget::activation, {{"alpha", c.param("alpha")}}};
    if (c.has_param("delta")) cfg.options["delta"] = c.param("delta");
    auto q = make_aqe_quantizer(cfg);
    q->to(device());
    expect_golden(c.y, q->forward(x.detach()).to_vector(), "quantizer train y");
    q->train(false);
    expect_golden(want, q->forward(x.detach()).to_vector(), "quantizer eval y", 0.0);
  }
}

TEST_P(AqeTest, RandomMatchesReference) {
  const char* names[] = {"sign", "ternary", "pow2"};
  for (int k = 0; k < 3; ++k) {
    for (double alpha : {0.0, 0.3, 0.5, 0.9, 1.0}) {
      SCOPED_TRACE(testing::Message() << names[k] << " alpha " << alpha);
      ref::Arr x = random_arr({4097}, -1.6, 1.6, 17 + k), g = random_arr({4097}, -1.0, 1.0, 31 + k);
      ref::AqeResult r = ref::aqe(x, g, static_cast<float>(alpha), names[k], 0.5);
      Tensor xt = from_ref(x, device()).requires_grad_();
      Tensor a = Tensor::full({}, static_cast<float>(alpha), DType::f32, device());
      Tensor y = aqe_quantize(xt, a, levels_of(names[k]));
      expect_close(r.y, y, kForwardAtol, kForwardRtol, "y");
      y.backward(from_ref(g, device()));
      expect_close(r.dx, xt.grad(), kForwardAtol, kForwardRtol, "dx");
      expect_close(r.y_eval, aqe_hard(xt.detach(), levels_of(names[k])), 0.0, 0.0, "y_eval");
    }
  }
}

TEST_P(AqeTest, ThresholdsAndMaskExact) {
  const float e = std::ldexp(1.f, -12);
  std::vector<float> xs = {0.f, -0.f, 0.125f, 0.125f + e, -0.375f, -0.375f - e, 0.75f, 0.75f + e, 1.f, -1.f - e, 0.5f,
                           0.5f + e, -0.5f};
  Tensor x = Tensor::from_vector(xs, {static_cast<int64_t>(xs.size())}, device());
  EXPECT_EQ(aqe_hard(x, AqeLevels::sign).to_vector(),
            (std::vector<float>{1, 1, 1, 1, -1, -1, 1, 1, 1, -1, 1, 1, -1}));
  EXPECT_EQ(aqe_hard(x, AqeLevels::ternary).to_vector(),
            (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 1, -1, 0, 1, 0}));
  EXPECT_EQ(aqe_hard(x, AqeLevels::ternary, 0.25f).to_vector(),
            (std::vector<float>{0, 0, 0, 0, -1, -1, 1, 1, 1, -1, 1, 1, -1}));
  EXPECT_EQ(aqe_hard(x, AqeLevels::pow2).to_vector(),
            (std::vector<float>{0, 0, 0, 0.25f, -0.25f, -0.5f, 0.5f, 1, 1, -1, 0.5f, 0.5f, -0.5f}));
  // dx = 2α·g·1{|x| ≤ 1}: inclusive at ±1.
  Tensor xg = x.clone().requires_grad_();
  Tensor y = aqe_quantize(xg, Tensor::full({}, 0.75f, DType::f32, device()), AqeLevels::pow2);
  sum(y).backward();
  std::vector<float> dx = xg.grad().to_vector();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(dx[i], std::abs(xs[i]) <= 1.f ? 1.5f : 0.f) << xs[i];
}

TEST_P(AqeTest, AlphaBufferAndSchedule) {
  auto q = make_aqe_quantizer(QuantConfig{"aqe", 1, QuantTarget::weight, {}});
  auto* aqe = dynamic_cast<AqeQuantizer*>(q.get());
  ASSERT_NE(aqe, nullptr);
  EXPECT_TRUE(q->parameters().empty()) << "alpha is not learned";
  ASSERT_EQ(q->named_buffers().size(), 1u);
  EXPECT_EQ(q->named_buffers()[0].first, "alpha");
  EXPECT_EQ(aqe->alpha(), kAqeDefaultAlpha);
  q->to(device());
  Tensor w = Tensor::from_vector({-0.5f, 0.25f, 2.f}, {3}, device());
  aqe->set_alpha(1.f);  // α = 1: the binary forward
  EXPECT_EQ(q->forward(w).to_vector(), (std::vector<float>{-1.f, 1.f, 1.f}));
  aqe->set_alpha(0.f);  // α = 0: the identity
  EXPECT_EQ(q->forward(w).to_vector(), w.to_vector());
  EXPECT_EQ(q->named_buffers()[0].second.item(), 0.f) << "the buffer holds α (state dicts save it)";
  EXPECT_THROW(aqe->set_alpha(1.5f), Error);
  EXPECT_THROW(aqe->set_alpha(-0.1f), Error);
  // Eval ignores α: the hard quantizer.
  q->train(false);
  EXPECT_EQ(q->forward(w).to_vector(), (std::vector<float>{-1.f, 1.f, 1.f}));
  EXPECT_FALSE(q->forward(w.clone().requires_grad_()).requires_grad());
}

TEST_P(AqeTest, UnsupportedWidthsRefused) {
  for (int bits : {0, 4, 8, 32}) {
    for (QuantTarget t : {QuantTarget::weight, QuantTarget::activation}) {
      try {
        make_aqe_quantizer(QuantConfig{"aqe", bits, t, {}});
        ADD_FAILURE() << "accepted " << bits << " bits";
      } catch (const Error& err) {
        std::string msg = err.what();
        EXPECT_NE(msg.find("aqe"), std::string::npos) << msg;
        EXPECT_NE(msg.find(quant_target_name(t)), std::string::npos) << msg;
        EXPECT_NE(msg.find("1 = sign, 2 = ternary, 3 = power-of-two"), std::string::npos) << msg;
      }
    }
  }
  EXPECT_THROW(make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {{"delta", 0.0}}}), Error);
  EXPECT_THROW(make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {{"delta_rel", 0.0}}}), Error);
  EXPECT_THROW(make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {{"delta", 0.5}, {"delta_rel", 0.7}}}),
               Error);
  EXPECT_THROW(make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::activation, {{"delta_rel", 0.7}}}), Error);
  auto act_holder = make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::activation, {}});  // keeps the quantizer alive
  auto& act = dynamic_cast<AqeQuantizer&>(*act_holder);
  EXPECT_FALSE(act.relative_delta());
  EXPECT_EQ(act.delta(), kAqeDefaultDelta);
  auto w_holder = make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {}});  // keeps the quantizer alive
  auto& w = dynamic_cast<AqeQuantizer&>(*w_holder);
  EXPECT_TRUE(w.relative_delta());
  EXPECT_EQ(w.delta_rel(), kAqeDefaultDeltaRel);
  auto fixed_holder = make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {{"delta", 0.25}}});  // keeps the quantizer alive
  auto& fixed = dynamic_cast<AqeQuantizer&>(*fixed_holder);
  EXPECT_FALSE(fixed.relative_delta());
  EXPECT_EQ(fixed.delta(), 0.25f);
}

// Ternary weights use TWN's Δ = 0.7·mean|W| of the current tensor (spec §5.2 leaves Δ open): small
// weights (a float checkpoint's, ~0.05) keep their large entries instead of all becoming 0.
TEST_P(AqeTest, TernaryWeightThresholdIsRelative) {
  // mean|w| = (0.01 + 0.02 + 0.03 + 0.06 + 0.08 + 0.1) / 6 = 0.05 → Δ = 0.035 (float64 reference).
  const std::vector<float> wv = {0.01f, -0.02f, 0.03f, -0.06f, 0.08f, -0.1f};
  double mean_abs = 0;
  for (float v : wv) mean_abs += std::abs(static_cast<double>(v));
  const double delta = 0.7 * mean_abs / static_cast<double>(wv.size());
  Tensor w = Tensor::from_vector(wv, {6}, device());
  auto q = make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {}});
  q->to(device());
  auto* aqe = dynamic_cast<AqeQuantizer*>(q.get());
  EXPECT_NEAR(aqe->delta_for(w), delta, 1e-7);
  std::vector<float> hard_want;
  for (float v : wv) hard_want.push_back(std::abs(v) <= delta ? 0.f : (v < 0 ? -1.f : 1.f));
  EXPECT_EQ(hard_want, (std::vector<float>{0, 0, 0, -1, 1, -1}));
  q->train(false);
  EXPECT_EQ(q->forward(w).to_vector(), hard_want);
  // Train: α·h + (1 − α)·w with the same Δ; dx = 2α·g on |w| ≤ 1.
  q->train(true);
  Tensor wg = w.clone().requires_grad_();
  Tensor y = q->forward(wg);
  std::vector<float> yv = y.to_vector();
  for (size_t i = 0; i < wv.size(); ++i)
    EXPECT_NEAR(yv[i], 0.5 * hard_want[i] + 0.5 * static_cast<double>(wv[i]), 1e-6) << i;
  sum(y).backward();
  EXPECT_EQ(wg.grad().to_vector(), std::vector<float>(wv.size(), 1.f));
  // Scaling the weights scales Δ: the ternary pattern is unchanged.
  Tensor w10 = Tensor::from_vector(std::vector<float>{0.1f, -0.2f, 0.3f, -0.6f, 0.8f, -1.f}, {6}, device());
  q->train(false);
  EXPECT_EQ(q->forward(w10).to_vector(), hard_want);
  // An explicit fixed Δ = ½ is the paper-literal reading: every one of these weights is 0.
  auto fixed = make_aqe_quantizer(QuantConfig{"aqe", 2, QuantTarget::weight, {{"delta", 0.5}}});
  fixed->to(device());
  fixed->train(false);
  EXPECT_EQ(fixed->forward(w).to_vector(), std::vector<float>(wv.size(), 0.f));
}

TEST_P(AqeTest, WeightClipHelpers) {
  Tensor w = Tensor::from_vector({-3.f, -1.f, 0.2f, 1.f, 1.5f}, {5}, device()).requires_grad_();
  aqe_clip_weights({w});
  EXPECT_EQ(w.to_vector(), (std::vector<float>{-1.f, -1.f, 0.2f, 1.f, 1.f}));
  Tensor v = Tensor::from_vector({2.f, -0.5f}, {2}, device()).requires_grad_();
  Optimizer::Hook hook = aqe_weight_clip_hook({v});
  hook();
  EXPECT_EQ(v.to_vector(), (std::vector<float>{1.f, -0.5f}));
}

LOWBIT_INSTANTIATE_DEVICES(AqeTest);

}  // namespace
}  // namespace lowbit::test
