// DAQ quantizer tests: the float64 reference against the golden vectors (1e-12), the f32 op on
// every device against the golden vectors (README float32 tolerances, including the extra
// fields y_eval, level, t, w_hat, mean, std) and against the reference on random tensors; the
// closed-form backward against the derivative of the soft path; train vs eval; widths refused;
// initialization.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/ops/elementwise.h"
#include "kernels/quant/daq_math.h"
#include "quant/daq.h"
#include "tests/golden.h"
#include "tests/reference/quant_daq.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

double f64_err(double a, double b) { return std::abs(a - b) / (1.0 + std::abs(b)); }

void expect_vec64(const std::vector<double>& want, const std::vector<double>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (f64_err(got[i], want[i]) > kGoldenF64Tol && reported++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: want " << want[i] << " got " << got[i];
}

// ---------------- float64 reference ----------------

TEST(DaqReference, GoldenVectors) {
  auto cases = load_golden("daq");
  ASSERT_EQ(cases.size(), 14u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    bool weight = target_of(c) == QuantTarget::weight;
    ref::DaqRef r = ref::daq(c.x, c.g, c.param("l"), c.param("u"), c.bits, weight, c.param("gamma"), c.param("sigma"));
    expect_vec64(c.y, r.y, "y");
    expect_vec64(c.grads.at("dx"), r.dx, "dx");
    expect_vec64(c.extra_vec("y_eval"), r.y_eval, "y_eval");
    expect_vec64(c.extra_vec("level"), r.level, "level");
    expect_vec64(c.extra_vec("t"), r.t, "t");
    expect_vec64(c.extra_vec("du_per_element"), r.du_per_element, "du_per_element");
    EXPECT_LE(std::abs(r.du - c.grads.at("du")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("du")));
    if (weight) {
      expect_vec64(c.extra_vec("w_hat"), r.w_hat, "w_hat");
      expect_vec64(c.extra_vec("dl_per_element"), r.dl_per_element, "dl_per_element");
      EXPECT_LE(std::abs(r.dl - c.grads.at("dl")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("dl")));
      EXPECT_LE(f64_err(r.mean, c.extra.at("mean").get<double>()), kGoldenF64Tol);
      EXPECT_LE(f64_err(r.std, c.extra.at("std").get<double>()), kGoldenF64Tol);
    }
    // The §3.2 closed form agrees with the chain rule; the train forward equals the hard rounding.
    EXPECT_LE(r.closed_form_max_abs_diff, kGoldenF64Tol);
    for (size_t i = 0; i < r.y.size(); ++i) EXPECT_LE(std::abs(r.y[i] - r.y_eval[i]), 4.5e-16) << i;
  }
}

TEST(DaqReference, ClosedFormIsTheSoftPathDerivative) {
  for (double sigma : {1.0, 2.0}) {
    for (double f = 0.0; f < 1.0; f += 1.0 / 64.0 + 1e-3) {
      double h = 1e-6;
      double num = (ref::daq_soft_frac_frozen(f + h, f, 2.0, sigma) - ref::daq_soft_frac_frozen(f - h, f, 2.0, sigma)) /
                   (2 * h);
      double closed = ref::daq_dyhat_df_closed(f, 2.0, sigma);
      if (f > 0.0) {
        EXPECT_NEAR(num, closed, 1e-7 * (1.0 + closed)) << "f=" << f << " sigma=" << sigma;
      }
      EXPECT_NEAR(ref::daq_dyhat_df_chain(f, 2.0, sigma), closed, 1e-12) << "f=" << f;
    }
  }
  // Worked values of spec §3.2 (γ = 2): σ = 2 ≈ 0.50 at f = 0 and ≈ 2.2 at 0.5⁻; σ = 1 ≈ 0.36, ≈ 0.60.
  EXPECT_NEAR(ref::daq_dyhat_df_closed(0.0, 2.0, 2.0), 0.50, 0.01);
  EXPECT_NEAR(ref::daq_dyhat_df_closed(0.5, 2.0, 2.0), 2.2, 0.05);
  EXPECT_NEAR(ref::daq_dyhat_df_closed(0.0, 2.0, 1.0), 0.36, 0.01);
  EXPECT_NEAR(ref::daq_dyhat_df_closed(0.5, 2.0, 1.0), 0.60, 0.01);
}

// The f32 soft path (daq_soft_frac) is the hard rounding; the f32 closed form matches float64.
TEST(DaqMath, SoftPathEqualsHardRoundingAndClosedFormMatchesReference) {
  for (bool weight : {true, false}) {
    double sigma = weight ? 1.0 : 2.0;
    DaqConsts k = daq_consts(2, 2.0, sigma, weight);
    for (int i = 0; i < 4096; ++i) {
      float f = static_cast<float>(i) / 4096.f;
      float hard = f > 0.5f ? 1.f : 0.f;
      EXPECT_NEAR(daq_soft_frac(f, k), hard, 1e-6) << "f=" << f;
      double want = ref::daq_dyhat_df_closed(f, 2.0, sigma);
      EXPECT_NEAR(daq_dyhat_df(f, k), want, 1e-5 * (1.0 + want)) << "f=" << f;
    }
  }
}

// ---------------- the f32 op on every device ----------------

class DaqOp : public DeviceTest {};

struct OpRun {
  Tensor y, dx, dl, du;
};

OpRun run_train(const std::vector<double>& x, const std::vector<double>& g, const Shape& shape, double l, double u,
                int bits, QuantTarget target, Device dev) {
  Tensor xt = golden_tensor(x, shape, dev).requires_grad_();
  Tensor lt = Tensor::full({}, static_cast<float>(l), DType::f32, dev).requires_grad_();
  Tensor ut = Tensor::full({}, static_cast<float>(u), DType::f32, dev).requires_grad_();
  Tensor y = daq_quantize(xt, lt, ut, bits, target);
  y.backward(golden_tensor(g, shape, dev));
  return {y, xt.grad(), lt.grad(), ut.grad()};
}

TEST_P(DaqOp, GoldenVectors) {
  for (const auto& c : load_golden("daq")) {
    SCOPED_TRACE(c.id);
    QuantTarget target = target_of(c);
    bool weight = target == QuantTarget::weight;
    double l = c.param("l"), u = c.param("u");
    OpRun r = run_train(c.x, c.g, c.shape, l, u, c.bits, target, device());
    std::vector<float> y = r.y.to_vector();
    expect_golden(c.y, y, "y");
    expect_golden(c.grads.at("dx"), r.dx.to_vector(), "dx");
    expect_golden_param(c.grads.at("du")[0], r.du.item(), c.abs_sum("du"), "du");
    if (weight) expect_golden_param(c.grads.at("dl")[0], r.dl.item(), c.abs_sum("dl"), "dl");

    // Eval: the official hard quantizer; the train forward equals it exactly in f32.
    Tensor xt = golden_tensor(c.x, c.shape, device());
    Tensor lt = Tensor::full({}, static_cast<float>(l), DType::f32, device());
    Tensor ut = Tensor::full({}, static_cast<float>(u), DType::f32, device());
    std::vector<float> ye = daq_quantize_eval(xt, lt, ut, c.bits, target).to_vector();
    expect_golden(c.extra_vec("y_eval"), ye, "y_eval");
    std::vector<double> level = c.extra_vec("level");
    double B = std::pow(2.0, c.bits) - 1.0;
    for (size_t i = 0; i < ye.size(); ++i) {
      EXPECT_EQ(y[i], ye[i]) << "train vs eval at " << i;
      double lev = weight ? (ye[i] * B + B) / 2.0 : ye[i] * B;
      EXPECT_NEAR(lev, std::nearbyint(lev), 1e-5) << i;
      EXPECT_EQ(std::nearbyint(lev), level[i]) << "level at " << i;
    }

    // Standardization statistics (device reduction), x̂ and the unclamped t.
    std::vector<float> st = {0.f, 1.f};
    if (weight) {
      st = daq_weight_stats(xt).to_vector();
      EXPECT_LE(f64_err(st[0], c.extra.at("mean").get<double>()), kGoldenF32Tol);
      EXPECT_LE(f64_err(st[1], c.extra.at("std").get<double>()), kGoldenF32Tol);
    }
    std::vector<float> xh, t;
    float delta = (static_cast<float>(u) - static_cast<float>(l)) / static_cast<float>(B);
    for (double v : c.x) {
      float h = weight ? daq_standardize(static_cast<float>(v), st[0], st[1]) : static_cast<float>(v);
      xh.push_back(h);
      t.push_back(daq_t(h, static_cast<float>(l), delta));
    }
    if (weight) expect_golden(c.extra_vec("w_hat"), xh, "w_hat");
    expect_golden(c.extra_vec("t"), t, "t");
  }
}

// Random tensors against the float64 reference. Elements within 1e-4 (in t) of a decision point
// (a tie k + ½ or a clip bound), where f32 may legitimately take the other branch, get g = 0 and
// their y is not compared.
void check_random(const Shape& shape, bool weight, int bits, double l, double u, uint64_t seed, Device dev) {
  SCOPED_TRACE("bits " + std::to_string(bits) + (weight ? " weight" : " act") + " n " + std::to_string(shape_numel(shape)));
  ref::Arr xa = random_arr(shape, weight ? -0.7 : -1.0, weight ? 0.9 : 3.0, seed);
  if (!weight)
    for (double& v : xa.v) v = v < 0.0 ? 0.0 : v;  // post-ReLU, with exact zeros
  ref::Arr ga = random_arr(shape, -1.0, 1.0, seed + 1);
  double gamma = 2.0, sigma = weight ? 1.0 : 2.0;
  ref::DaqRef r0 = ref::daq(xa.v, ga.v, l, u, bits, weight, gamma, sigma);
  double B = std::pow(2.0, bits) - 1.0;
  std::vector<bool> fragile(xa.v.size(), false);
  for (size_t i = 0; i < xa.v.size(); ++i) {
    double t = r0.t[i];
    double d_tie = std::abs(t - std::floor(t) - 0.5);
    if (d_tie < 1e-4 || std::abs(t) < 1e-4 || std::abs(t - B) < 1e-4) {
      fragile[i] = true;
      ga.v[i] = 0.0;
    }
  }
  ref::DaqRef r = ref::daq(xa.v, ga.v, l, u, bits, weight, gamma, sigma);
  QuantTarget target = weight ? QuantTarget::weight : QuantTarget::activation;
  OpRun o = run_train(xa.v, ga.v, shape, l, u, bits, target, dev);
  std::vector<float> y = o.y.to_vector(), dx = o.dx.to_vector();
  // In f32 the fraction f = t − floor(t) keeps 24 − log2(B + 1) bits, so the README's float32
  // tolerance (set for ≤ 4 bits) is scaled by (B + 1)/16 at wider widths.
  const double tol = kGoldenF32Tol * std::max(1.0, (B + 1.0) / 16.0);
  int bad = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (!fragile[i] && std::abs(y[i] - r.y[i]) > tol * (1 + std::abs(r.y[i])) && bad++ < 5)
      ADD_FAILURE() << "y[" << i << "] want " << r.y[i] << " got " << y[i];
    if (std::abs(dx[i] - r.dx[i]) > tol * (1 + std::abs(r.dx[i])) && bad++ < 5)
      ADD_FAILURE() << "dx[" << i << "] want " << r.dx[i] << " got " << dx[i];
  }
  double sl = 0.0, su = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    sl += std::abs(r.dl_per_element[i]);
    su += std::abs(r.du_per_element[i]);
  }
  expect_golden_param(r.du, o.du.item(), su, "du", tol);
  if (weight) expect_golden_param(r.dl, o.dl.item(), sl, "dl", tol);
}

TEST_P(DaqOp, RandomTensorsMatchReference) {
  for (int bits : {1, 2, 3, 4, 8}) {
    check_random({6, 3, 3, 4}, true, bits, -2.5, 2.25, 10 + bits, device());
    check_random({5, 37}, false, bits, 0.0, 2.0, 20 + bits, device());
  }
  // Larger, odd sizes: grid-stride loops, vector loads with a scalar tail, many blocks reduced.
  check_random({1000, 131}, true, 2, -2.0, 2.5, 31, device());
  check_random({3, 50001}, false, 3, 0.0, 2.5, 32, device());
}

TEST_P(DaqOp, ClipBoundsAndTiesAreExact) {
  // Activations, 2 bits, u = 1.5: Δ = 0.5. t = 0 and t = B pass gradient (inclusive mask), just
  // outside does not; ties t = k + ½ go down in train and eval alike.
  std::vector<double> x = {0.0, 1.5, 1.5 + 1.0 / 256, 0.25, 0.75, 1.25, 0.25 + 1.0 / 1024};
  std::vector<double> g(x.size(), 1.0);
  OpRun o = run_train(x, g, {7}, 0.0, 1.5, 2, QuantTarget::activation, device());
  std::vector<float> y = o.y.to_vector(), dx = o.dx.to_vector();
  std::vector<float> want_y = {0.f, 1.f, 1.f, 0.f, 1.f / 3.f, 2.f / 3.f, 1.f / 3.f};
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], want_y[i]) << i;
  EXPECT_GT(dx[0], 0.f);
  EXPECT_GT(dx[1], 0.f);
  EXPECT_EQ(dx[2], 0.f);
}

TEST_P(DaqOp, QuantizerTrainAndEval) {
  QuantConfig cfg{"daq", 2, QuantTarget::weight, {}};
  auto q = std::dynamic_pointer_cast<DaqQuantizer>(make_daq_quantizer(cfg));
  ASSERT_TRUE(q);
  q->to(device());
  auto names = q->named_parameters();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].first, "l");
  EXPECT_EQ(names[1].first, "u");
  EXPECT_EQ(q->lower().item(), -3.f);
  EXPECT_EQ(q->upper().item(), 3.f);
  EXPECT_EQ(q->sigma(), 1.0);
  ref::Arr wa = random_arr({4, 3, 3, 2}, -1.0, 1.0, 5);
  Tensor w = from_ref(wa, device()).requires_grad_();
  q->train();
  Tensor y = (*q)(w);
  EXPECT_TRUE(y.requires_grad());
  ref::Arr ga = random_arr({4, 3, 3, 2}, -1.0, 1.0, 6);
  y.backward(from_ref(ga, device()));
  ASSERT_TRUE(q->upper().grad().defined());
  ASSERT_TRUE(q->lower().grad().defined());
  ref::DaqRef r = ref::daq(wa.v, ga.v, -3.0, 3.0, 2, true, 2.0, 1.0);
  double su = 0.0;
  for (double v : r.du_per_element) su += std::abs(v);
  expect_golden_param(r.du, q->upper().grad().item(), su, "du via the module");
  q->eval();
  Tensor ye = (*q)(w);
  EXPECT_FALSE(ye.requires_grad());
  std::vector<float> a = y.to_vector(), b = ye.to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << i;
}

TEST_P(DaqOp, ActivationInitializationFromBatch) {
  QuantConfig cfg{"daq", 4, QuantTarget::activation, {}};
  auto q = std::dynamic_pointer_cast<DaqQuantizer>(make_daq_quantizer(cfg));
  q->to(device());
  auto params = q->named_parameters();
  ASSERT_EQ(params.size(), 1u);  // l ≡ 0 is a buffer
  EXPECT_EQ(params[0].first, "u");
  EXPECT_EQ(q->sigma(), 2.0);
  ref::Arr xa = random_arr({8, 50}, -1.0, 2.0, 7);
  for (double& v : xa.v) v = v < 0.0 ? 0.0 : v;
  q->initialize(from_ref(xa, device()));
  EXPECT_TRUE(q->initialized());
  ref::DaqRef r = ref::daq(xa.v, xa.v, 0.0, 1.0, 1, true, 2.0, 1.0);  // its std: unbiased, whole tensor
  EXPECT_NEAR(q->upper().item(), 3.0 * r.std, 1e-5 * 3.0 * r.std);
  EXPECT_EQ(q->lower().item(), 0.f);
}

TEST(DaqQuantizerConfig, RefusesUnsupportedWidths) {
  for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
    for (int bits : {0, 9, 16, 32}) {
      try {
        make_daq_quantizer(QuantConfig{"daq", bits, target, {}});
        ADD_FAILURE() << "width " << bits << " accepted";
      } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("daq"), std::string::npos) << msg;
        EXPECT_NE(msg.find(quant_target_name(target)), std::string::npos) << msg;
        EXPECT_NE(msg.find("1-8"), std::string::npos) << msg;
      }
    }
    for (int bits = 1; bits <= 8; ++bits) EXPECT_NO_THROW(make_daq_quantizer(QuantConfig{"daq", bits, target, {}}));
  }
  EXPECT_THROW(daq_weight_stats(Tensor::zeros({1})), Error);
}

LOWBIT_INSTANTIATE_DEVICES(DaqOp);

}  // namespace
}  // namespace lowbit::test
