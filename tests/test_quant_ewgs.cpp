// EWGS quantizer tests (quant/ewgs.h): the float64 reference against the golden vectors (1e-12);
// the f32 op on every device against the golden vectors (forward, dx, dl, du; README float32
// tolerances) and against the reference on random tensors; exact ties and clip boundaries; train
// vs eval; the δ buffer; initialization from a batch (spec §2.4); refused widths.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "quant/ewgs.h"
#include "tests/golden.h"
#include "tests/reference/quant_ewgs.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

void expect_f64(const std::vector<double>& want, const std::vector<double>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::abs(got[i] - want[i]), kGoldenF64Tol * (1.0 + std::abs(want[i]))) << what << "[" << i << "]";
}

std::shared_ptr<EwgsQuantizer> make_q(QuantTarget target, int bits, double l, double u, double delta, Device device) {
  QuantConfig cfg{"ewgs", bits, target, {{"delta", delta}}};
  auto q = std::dynamic_pointer_cast<EwgsQuantizer>(make_ewgs_quantizer(cfg));
  NoGradGuard no_grad;
  Tensor lt = q->lower(), ut = q->upper();  // handles sharing the parameters' storage
  lt.fill_(static_cast<float>(l));
  ut.fill_(static_cast<float>(u));
  q->to(device);
  return q;
}

TEST(EwgsReference, MatchesGolden) {
  for (const GoldenCase& c : load_golden("ewgs")) {
    SCOPED_TRACE(c.id);
    ref::EwgsResult r = ref::ewgs(ref::Arr{c.shape, c.x}, ref::Arr{c.shape, c.g}, c.param("l"), c.param("u"),
                                  c.param("delta"), c.bits, target_of(c) == QuantTarget::weight);
    expect_f64(c.y, r.y.v, "y");
    expect_f64(c.extra_vec("x_n"), r.x_n.v, "x_n");
    expect_f64(c.extra_vec("x_q"), r.x_q.v, "x_q");
    expect_f64(c.grads.at("dx"), r.dx.v, "dx");
    EXPECT_LE(std::abs(r.dl - c.grads.at("dl")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("dl")));
    EXPECT_LE(std::abs(r.du - c.grads.at("du")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("du")));
  }
}

class EwgsOpTest : public DeviceTest {};

TEST_P(EwgsOpTest, ReproducesGolden) {
  for (const GoldenCase& c : load_golden("ewgs")) {
    SCOPED_TRACE(c.id);
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor l = scalar(c.param("l"), device()), u = scalar(c.param("u"), device());
    Tensor y = ewgs_quantize(x, l, u, static_cast<float>(c.param("delta")), c.bits, target_of(c));
    expect_golden(c.y, y.to_vector(), "y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    expect_golden_param(c.grads.at("dl")[0], l.grad().item(), c.abs_sum("dl"), "dl");
    expect_golden_param(c.grads.at("du")[0], u.grad().item(), c.abs_sum("du"), "du");
  }
}

TEST_P(EwgsOpTest, QuantizerReproducesGoldenInTrainAndEval) {
  for (const GoldenCase& c : load_golden("ewgs")) {
    SCOPED_TRACE(c.id);
    auto q = make_q(target_of(c), c.bits, c.param("l"), c.param("u"), c.param("delta"), device());
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor y = q->forward(x);
    expect_golden(c.y, y.to_vector(), "train y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    expect_golden_param(c.grads.at("dl")[0], q->lower().grad().item(), c.abs_sum("dl"), "dl");
    expect_golden_param(c.grads.at("du")[0], q->upper().grad().item(), c.abs_sum("du"), "du");
    q->eval();
    Tensor ye = q->forward(x);
    EXPECT_FALSE(ye.requires_grad());  // the hard quantizer records nothing
    expect_golden(c.y, ye.to_vector(), "eval y");
  }
}

TEST_P(EwgsOpTest, RandomTensorsMatchReference) {
  for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
    const bool weight = target == QuantTarget::weight;
    for (int bits : {1, 2, 3, 4, 8}) {
      for (double delta : {0.0, 1e-3, 0.25}) {
        SCOPED_TRACE(std::string(quant_target_name(target)) + " b" + std::to_string(bits) + " delta " +
                     std::to_string(delta));
        const double l = weight ? -0.8 : 0.125, u = weight ? 0.7 : 1.9;
        ref::Arr xa = random_arr({37, 29}, weight ? -1.2 : -0.3, weight ? 1.2 : 2.4, 100 + bits);
        ref::Arr ga = random_arr({37, 29}, -1.0, 1.0, 200 + bits);
        ref::EwgsResult r = ref::ewgs(xa, ga, static_cast<float>(l), static_cast<float>(u),
                                      static_cast<float>(delta), bits, weight);
        Tensor x = from_ref(xa, device()).requires_grad_();
        Tensor lt = scalar(l, device()), ut = scalar(u, device());
        Tensor y = ewgs_quantize(x, lt, ut, static_cast<float>(delta), bits, target);
        expect_close(r.y, y, 1e-6, 1e-6, "y");
        y.backward(from_ref(ga, device()));
        expect_close(r.dx, x.grad(), kGoldenF32Tol, kGoldenF32Tol, "dx");
        double s = 0.0;  // each element adds at most |dx| to dl and to du (|t|, |t − 1| ≤ 1 inside)
        for (double v : r.dx.v) s += std::abs(v);
        EXPECT_NEAR(lt.grad().item(), r.dl, kGoldenF32Tol * (1.0 + s));
        EXPECT_NEAR(ut.grad().item(), r.du, kGoldenF32Tol * (1.0 + s));
      }
    }
  }
}

TEST_P(EwgsOpTest, TiesAndClipBoundariesExact) {
  // Weights, 2 bits, [l, u] = [−1, 1] (r = 2): both bounds pass gradient (g_q/r = 2g/2 = g);
  // 2^-12 outside passes none; δ = 0.
  {
    Tensor x = Tensor::from_vector({-1.f, 1.f, -1.f - 0x1p-12f, 1.f + 0x1p-12f, -5.f}, {5}, device()).requires_grad_();
    Tensor l = scalar(-1.0, device()), u = scalar(1.0, device());
    Tensor y = ewgs_quantize(x, l, u, 0.f, 2, QuantTarget::weight);
    EXPECT_EQ(y.to_vector(), (std::vector<float>{-1.f, 1.f, -1.f, 1.f, -1.f}));
    y.backward(Tensor::ones({5}, DType::f32, device()));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1.f, 1.f, 0.f, 0.f, 0.f}));
    // dl: x = l gives (x − u)/r²·g_n = −2/4·2 = −1, x = u gives 0; du: x = u gives −(x − l)/r²·2 = −1.
    EXPECT_EQ(l.grad().item(), -1.f);
    EXPECT_EQ(u.grad().item(), -1.f);
  }
  // Activations, 1 bit, [0, 2]: x_n = ½ exactly is a tie and rounds to even (0); 2^-10 above
  // rounds up.
  {
    Tensor x = Tensor::from_vector({1.f, 1.f + 0x1p-10f, 1.f - 0x1p-10f, 0.f, 2.f}, {5}, device());
    Tensor y = ewgs_quantize(x, scalar(0.0, device(), false), scalar(2.0, device(), false), 1e-3f, 1,
                             QuantTarget::activation);
    EXPECT_EQ(y.to_vector(), (std::vector<float>{0.f, 1.f, 0.f, 0.f, 1.f}));
  }
}

TEST_P(EwgsOpTest, DeltaBufferDrivesTheBackward) {
  auto q = make_q(QuantTarget::activation, 2, 0.0, 1.0, 1e-3, device());
  EXPECT_FLOAT_EQ(q->delta(), 1e-3f);
  q->set_delta(0.5f);
  EXPECT_EQ(q->delta(), 0.5f);
  // x_n = 0.25 → x_q = 1/3, x_n − x_q = −1/12; g = 1 → g_n = 1 − 0.5/12.
  Tensor x = Tensor::from_vector({0.25f}, {1}, device()).requires_grad_();
  q->forward(x).backward(Tensor::ones({1}, DType::f32, device()));
  EXPECT_NEAR(x.grad().item(), 1.0 - 0.5 / 12.0, 1e-6);
  EXPECT_THROW(q->set_delta(-1.f), Error);
}

TEST_P(EwgsOpTest, InitializesFromBatch) {
  // Weights: l = −3·std(W), u = 3·std(W) (unbiased std).
  ref::Arr w = random_arr({8, 3, 3, 4}, -0.5, 0.3, 7);
  double mean = 0.0, var = 0.0;
  for (double v : w.v) mean += v;
  mean /= static_cast<double>(w.v.size());
  for (double v : w.v) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / static_cast<double>(w.v.size() - 1));
  auto qw = make_q(QuantTarget::weight, 2, 0.0, 1.0, 1e-3, device());
  EXPECT_FALSE(qw->initialized());
  qw->initialize(from_ref(w, device()));
  EXPECT_TRUE(qw->initialized());
  EXPECT_NEAR(qw->lower().item(), -3.0 * sd, 1e-5 * 3.0 * sd);
  EXPECT_NEAR(qw->upper().item(), 3.0 * sd, 1e-5 * 3.0 * sd);
  EXPECT_TRUE(qw->lower().requires_grad());

  // Activations (post-ReLU, shifted so min ≠ 0): l = min(x), u = 3·std(x)/√(1 − 2/π).
  ref::Arr a = random_arr({16, 10}, 0.25, 3.0, 8);
  double amin = a.v[0], am = 0.0, av = 0.0;
  for (double v : a.v) amin = std::min(amin, v), am += v;
  am /= static_cast<double>(a.v.size());
  for (double v : a.v) av += (v - am) * (v - am);
  const double asd = std::sqrt(av / static_cast<double>(a.v.size() - 1));
  auto qa = make_q(QuantTarget::activation, 4, 0.0, 1.0, 1e-3, device());
  qa->initialize(from_ref(a, device()));
  EXPECT_FLOAT_EQ(qa->lower().item(), static_cast<float>(amin));
  const double want_u = 3.0 * asd / std::sqrt(1.0 - 2.0 / std::numbers::pi);
  EXPECT_NEAR(qa->upper().item(), want_u, 1e-5 * want_u);

  // A constant batch gives u = l: refused with a message.
  EXPECT_THROW(qw->initialize(Tensor::full({4, 4}, 0.5f, DType::f32, device())), Error);
}

LOWBIT_INSTANTIATE_DEVICES(EwgsOpTest);

TEST(EwgsQuantizer, ParametersAndDeltaBuffer) {
  auto q = make_ewgs_quantizer(QuantConfig{"ewgs", 2, QuantTarget::weight, {}});
  auto params = q->named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "l");
  EXPECT_EQ(params[1].first, "u");
  EXPECT_EQ(params[0].second.shape(), Shape{});
  auto buffers = q->named_buffers();
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0].first, "delta");
  EXPECT_FLOAT_EQ(buffers[0].second.item(), static_cast<float>(kEwgsDefaultDelta));
  auto q2 = std::dynamic_pointer_cast<EwgsQuantizer>(
      make_ewgs_quantizer(QuantConfig{"ewgs", 3, QuantTarget::activation, {{"delta", 0.0}}}));
  EXPECT_EQ(q2->delta(), 0.f);
  EXPECT_EQ(q2->lower().item(), 0.f);
  EXPECT_THROW(make_ewgs_quantizer(QuantConfig{"ewgs", 2, QuantTarget::weight, {{"delta", -0.1}}}), Error);
}

TEST(EwgsQuantizer, RefusesUnsupportedWidths) {
  for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
    for (int bits : {1, 4, 8}) EXPECT_NO_THROW(make_ewgs_quantizer(QuantConfig{"ewgs", bits, target, {}}));
    for (int bits : {0, 9, 32}) {
      try {
        make_ewgs_quantizer(QuantConfig{"ewgs", bits, target, {}});
        ADD_FAILURE() << "bits " << bits << " accepted";
      } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("ewgs"), std::string::npos) << msg;
        EXPECT_NE(msg.find(quant_target_name(target)), std::string::npos) << msg;
        EXPECT_NE(msg.find("1-8"), std::string::npos) << msg;
      }
    }
  }
}

}  // namespace
}  // namespace lowbit::test
