// LSQ quantizer tests (quant/lsq.h): the float64 reference against the golden vectors (1e-12);
// the f32 op on every device against the golden vectors (forward, dx, ds with the vectors'
// grad_scale; README float32 tolerances) and against the reference on random tensors; exact ties
// and clip boundaries (strict dx mask); train vs eval; the gradient scale the quantizer applies;
// initialization s = 2·mean|x|/√Q_P; refused widths.
#include <gtest/gtest.h>

#include <cmath>

#include "core/autograd.h"
#include "quant/lsq.h"
#include "tests/golden.h"
#include "tests/reference/quant_lsq.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

std::shared_ptr<LsqQuantizer> make_q(QuantTarget target, int bits, double s, Device device) {
  auto q = std::dynamic_pointer_cast<LsqQuantizer>(make_lsq_quantizer(QuantConfig{"lsq", bits, target, {}}));
  NoGradGuard no_grad;
  Tensor st = q->step();  // a handle sharing the parameter's storage
  st.fill_(static_cast<float>(s));
  q->to(device);
  return q;
}

TEST(LsqReference, MatchesGolden) {
  for (const GoldenCase& c : load_golden("lsq")) {
    SCOPED_TRACE(c.id);
    const bool weight = target_of(c) == QuantTarget::weight;
    EXPECT_EQ(lsq_range(c.bits, target_of(c)).qn, static_cast<int>(c.param("Q_N")));
    EXPECT_EQ(lsq_range(c.bits, target_of(c)).qp, static_cast<int>(c.param("Q_P")));
    ref::LsqResult r =
        ref::lsq(ref::Arr{c.shape, c.x}, ref::Arr{c.shape, c.g}, c.param("s"), c.bits, weight, c.param("grad_scale"));
    for (size_t i = 0; i < c.y.size(); ++i) {
      EXPECT_LE(std::abs(r.y.v[i] - c.y[i]), kGoldenF64Tol * (1.0 + std::abs(c.y[i]))) << "y[" << i << "]";
      EXPECT_LE(std::abs(r.dx.v[i] - c.grads.at("dx")[i]), kGoldenF64Tol * (1.0 + std::abs(c.grads.at("dx")[i])))
          << "dx[" << i << "]";
    }
    EXPECT_LE(std::abs(r.ds - c.grads.at("ds")[0]), kGoldenF64Tol * (1.0 + c.abs_sum("ds")));
    EXPECT_NEAR(c.param("grad_scale"), 1.0 / std::sqrt(c.param("N") * c.param("Q_P")), 1e-15);
  }
}

class LsqOpTest : public DeviceTest {};

TEST_P(LsqOpTest, ReproducesGolden) {
  for (const GoldenCase& c : load_golden("lsq")) {
    SCOPED_TRACE(c.id);
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    Tensor s = scalar(c.param("s"), device());
    Tensor y = lsq_quantize(x, s, c.bits, target_of(c), c.param("grad_scale"));
    expect_golden(c.y, y.to_vector(), "y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    expect_golden_param(c.grads.at("ds")[0], s.grad().item(), c.abs_sum("ds"), "ds");
  }
}

TEST_P(LsqOpTest, QuantizerReproducesGoldenInTrainAndEval) {
  for (const GoldenCase& c : load_golden("lsq")) {
    SCOPED_TRACE(c.id);
    auto q = make_q(target_of(c), c.bits, c.param("s"), device());
    // The golden cases are flat (1-D), so the quantizer's N is their numel for both targets.
    Tensor x = golden_tensor(c.x, c.shape, device()).requires_grad_();
    EXPECT_EQ(lsq_grad_scale_count(x, target_of(c)), static_cast<int64_t>(c.param("N")));
    Tensor y = q->forward(x);
    expect_golden(c.y, y.to_vector(), "train y");
    y.backward(golden_tensor(c.g, c.shape, device()));
    expect_golden(c.grads.at("dx"), x.grad().to_vector(), "dx");
    expect_golden_param(c.grads.at("ds")[0], q->step().grad().item(), c.abs_sum("ds"), "ds");
    q->eval();
    Tensor ye = q->forward(x);
    EXPECT_FALSE(ye.requires_grad());
    expect_golden(c.y, ye.to_vector(), "eval y");
  }
}

TEST_P(LsqOpTest, RandomTensorsMatchReference) {
  for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
    const bool weight = target == QuantTarget::weight;
    for (int bits : {1, 2, 3, 4, 8}) {
      if (weight && bits == 1) continue;
      SCOPED_TRACE(std::string(quant_target_name(target)) + " b" + std::to_string(bits));
      const float s = weight ? 0.6f / static_cast<float>(1 << (bits - 1)) : 2.f / static_cast<float>((1 << bits) - 1);
      ref::Arr xa = random_arr({41, 23}, weight ? -0.8 : -0.2, weight ? 0.8 : 2.3, 300 + bits);
      ref::Arr ga = random_arr({41, 23}, -1.0, 1.0, 400 + bits);
      const double grad_scale = 0.037;
      ref::LsqResult r = ref::lsq(xa, ga, s, bits, weight, grad_scale);
      Tensor x = from_ref(xa, device()).requires_grad_();
      Tensor st = scalar(s, device());
      Tensor y = lsq_quantize(x, st, bits, target, grad_scale);
      expect_close(r.y, y, 1e-6, 1e-6, "y");
      y.backward(from_ref(ga, device()));
      expect_close(r.dx, x.grad(), 0.0, 0.0, "dx");  // dx is g or 0: exact
      const double qp = weight ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
      double sabs = 0.0;  // Σ|per-element term| ≤ Σ|g|·max(Q_N, Q_P)
      for (double v : ga.v) sabs += std::abs(v) * std::max(qp + 1.0, 1.0);
      EXPECT_NEAR(st.grad().item(), r.ds, kGoldenF32Tol * (1.0 + grad_scale * sabs));
    }
  }
}

TEST_P(LsqOpTest, TiesAndClipBoundariesExact) {
  // Weights, 2 bits (Q_N = 2, Q_P = 1), s = 0.25: x/s = 1 and −2 sit on the bounds (dx = 0, the
  // ds terms are Q_P and −Q_N); x/s = 0.5 and −1.5 are ties (half to even: 0 and −2).
  Tensor x = Tensor::from_vector({0.25f, -0.5f, 0.125f, -0.375f, 0.25f - 0x1p-10f}, {5}, device()).requires_grad_();
  Tensor s = scalar(0.25, device());
  Tensor y = lsq_quantize(x, s, 2, QuantTarget::weight, 1.0);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.25f, -0.5f, 0.f, -0.5f, 0.25f}));
  y.backward(Tensor::ones({5}, DType::f32, device()));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 1.f, 1.f, 1.f}));
  // ds = 1 − 2 + (0 − 0.5) + (−2 + 1.5) + (1 − (1 − 2^-8)) = −2 + 2^-8.
  EXPECT_EQ(s.grad().item(), -2.f + 0x1p-8f);
  // Activations, 1 bit (Q_N = 0, Q_P = 1): x = 0 is on the lower bound (dx = 0).
  Tensor xa = Tensor::from_vector({0.f, 0.125f, 0.375f}, {3}, device()).requires_grad_();
  Tensor ya = lsq_quantize(xa, scalar(0.25, device()), 1, QuantTarget::activation, 1.0);
  EXPECT_EQ(ya.to_vector(), (std::vector<float>{0.f, 0.f, 0.25f}));
  ya.backward(Tensor::ones({3}, DType::f32, device()));
  EXPECT_EQ(xa.grad().to_vector(), (std::vector<float>{0.f, 1.f, 0.f}));
}

TEST_P(LsqOpTest, QuantizerAppliesGradScale) {
  // Activations [4, 10]: N = 10 features per sample (paper's N_F); weights: N = numel.
  for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
    SCOPED_TRACE(quant_target_name(target));
    const bool weight = target == QuantTarget::weight;
    const int bits = 3;
    const double s = 0.2;
    auto q = make_q(target, bits, s, device());
    ref::Arr xa = random_arr({4, 10}, -0.5, 1.5, 11), ga = random_arr({4, 10}, -1.0, 1.0, 12);
    Tensor x = from_ref(xa, device());
    EXPECT_EQ(lsq_grad_scale_count(x, target), weight ? 40 : 10);
    const double qp = weight ? 3.0 : 7.0;
    const double grad_scale = 1.0 / std::sqrt((weight ? 40.0 : 10.0) * qp);
    ref::LsqResult r = ref::lsq(xa, ga, static_cast<float>(s), bits, weight, grad_scale);
    q->forward(x).backward(from_ref(ga, device()));
    EXPECT_NEAR(q->step().grad().item(), r.ds, 1e-5 * (1.0 + std::abs(r.ds)));
  }
}

TEST_P(LsqOpTest, InitializesFromBatch) {
  ref::Arr a = random_arr({6, 7}, -1.0, 2.0, 21);
  double mabs = 0.0;
  for (double v : a.v) mabs += std::abs(v);
  mabs /= static_cast<double>(a.v.size());
  for (auto [target, bits, qp] : {std::tuple{QuantTarget::weight, 4, 7.0}, std::tuple{QuantTarget::activation, 2, 3.0}}) {
    auto q = make_q(target, bits, 1.0, device());
    q->initialize(from_ref(a, device()));
    EXPECT_TRUE(q->initialized());
    const double want = 2.0 * mabs / std::sqrt(qp);
    EXPECT_NEAR(q->step().item(), want, 1e-5 * want);
    EXPECT_TRUE(q->step().requires_grad());
  }
  auto q = make_q(QuantTarget::activation, 2, 1.0, device());
  EXPECT_THROW(q->initialize(Tensor::zeros({3, 3}, DType::f32, device())), Error);
}

LOWBIT_INSTANTIATE_DEVICES(LsqOpTest);

TEST(LsqQuantizer, RangesAndParameters) {
  EXPECT_EQ(lsq_range(2, QuantTarget::weight).qn, 2);
  EXPECT_EQ(lsq_range(2, QuantTarget::weight).qp, 1);
  EXPECT_EQ(lsq_range(8, QuantTarget::weight).qn, 128);
  EXPECT_EQ(lsq_range(8, QuantTarget::weight).qp, 127);
  EXPECT_EQ(lsq_range(1, QuantTarget::activation).qn, 0);
  EXPECT_EQ(lsq_range(1, QuantTarget::activation).qp, 1);
  EXPECT_EQ(lsq_range(8, QuantTarget::activation).qp, 255);
  auto q = make_lsq_quantizer(QuantConfig{"lsq", 4, QuantTarget::weight, {}});
  auto params = q->named_parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "s");
  EXPECT_EQ(params[0].second.shape(), Shape{});
  EXPECT_TRUE(q->named_buffers().empty());
}

TEST(LsqQuantizer, RefusesUnsupportedWidths) {
  struct Bad {
    QuantTarget target;
    int bits;
    const char* allowed;
  };
  for (const Bad& b : {Bad{QuantTarget::weight, 1, "2-8"}, Bad{QuantTarget::weight, 9, "2-8"},
                       Bad{QuantTarget::weight, 32, "2-8"}, Bad{QuantTarget::activation, 0, "1-8"},
                       Bad{QuantTarget::activation, 9, "1-8"}}) {
    try {
      make_lsq_quantizer(QuantConfig{"lsq", b.bits, b.target, {}});
      ADD_FAILURE() << "bits " << b.bits << " accepted";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("lsq"), std::string::npos) << msg;
      EXPECT_NE(msg.find(quant_target_name(b.target)), std::string::npos) << msg;
      EXPECT_NE(msg.find(b.allowed), std::string::npos) << msg;
    }
  }
  EXPECT_NO_THROW(make_lsq_quantizer(QuantConfig{"lsq", 2, QuantTarget::weight, {}}));
  EXPECT_NO_THROW(make_lsq_quantizer(QuantConfig{"lsq", 1, QuantTarget::activation, {}}));
}

}  // namespace
}  // namespace lowbit::test
