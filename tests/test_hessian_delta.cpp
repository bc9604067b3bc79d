// EWGS δ from the Hessian trace (quant/hessian_delta.h) on a small network
//   QLinear(6→5, ewgs w2 a2, output scale) → ReLU → Linear(5→3) → cross-entropy, batch of 8:
// the finite-difference Hessian-direction product and Hutchinson's trace per quantizer against
// the exact Hessian w.r.t. the quantizers' x_q, computed in float64 by forward-over-reverse
// (dual numbers through a hand-written gradient of the same network); δ = max(0, ·); the epsilon
// in the denominator; determinism for a seed; the model state (BN running statistics, training
// flags, parameters' requires_grad and grads, δ's) left as it was; identical ±εv forwards with
// BatchNorm and Dropout in the model; the multi-batch update.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "quant/ewgs.h"
#include "quant/hessian_delta.h"
#include "quant/qlinear.h"
#include "tests/test_util.h"
#include "tests/tolerances.h"

namespace lowbit {
namespace {

constexpr int kBatch = 8, kIn = 6, kHidden = 5, kClasses = 3;

// ---- float64 reference: value + directional derivative ----
struct Dual {
  double v = 0.0, d = 0.0;
};
Dual operator+(Dual a, Dual b) { return {a.v + b.v, a.d + b.d}; }
Dual operator-(Dual a, Dual b) { return {a.v - b.v, a.d - b.d}; }
Dual operator*(Dual a, Dual b) { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
Dual operator*(double s, Dual a) { return {s * a.v, s * a.d}; }
Dual dexp(Dual a) { return {std::exp(a.v), std::exp(a.v) * a.d}; }

// The network as a function of A = x_q of the input quantizer [8,6] and X = x_q of the weight
// quantizer [5,6] (Q_W = 2X − 1): z = α·A·Q_Wᵀ + b1, h = relu(z), o = h·W2ᵀ + b2, L = mean CE.
struct RefNet {
  double alpha;
  std::vector<double> b1, w2, b2;  // [5], [3,5], [3]
  std::vector<int> labels;         // [8]
  std::vector<double> a0, x0;      // base point

  // dL/dA and dL/dX (flattened, A first) at (a0 + t·da, x0 + t·dx), with their t-derivatives
  // (= H·[da; dx]) in .d.
  std::vector<Dual> grad(const std::vector<double>& da, const std::vector<double>& dx) const {
    std::vector<Dual> A(a0.size()), X(x0.size());
    for (size_t i = 0; i < A.size(); ++i) A[i] = {a0[i], da.empty() ? 0.0 : da[i]};
    for (size_t i = 0; i < X.size(); ++i) X[i] = {x0[i], dx.empty() ? 0.0 : dx[i]};
    std::vector<Dual> dA(A.size()), dX(X.size());
    for (int n = 0; n < kBatch; ++n) {
      Dual z[kHidden], h[kHidden], o[kClasses];
      for (int k = 0; k < kHidden; ++k) {
        Dual s{b1[k], 0.0};
        for (int j = 0; j < kIn; ++j) s = s + alpha * (A[n * kIn + j] * (2.0 * X[k * kIn + j] - Dual{1.0, 0.0}));
        z[k] = s;
        h[k] = s.v > 0.0 ? s : Dual{};
      }
      Dual m{-1e300, 0.0};
      for (int c = 0; c < kClasses; ++c) {
        Dual s{b2[c], 0.0};
        for (int k = 0; k < kHidden; ++k) s = s + w2[c * kHidden + k] * h[k];
        o[c] = s;
        if (s.v > m.v) m = s;
      }
      Dual e[kClasses], tot{};
      for (int c = 0; c < kClasses; ++c) tot = tot + (e[c] = dexp(o[c] - m));
      const Dual inv{1.0 / tot.v, -tot.d / (tot.v * tot.v)};
      for (int c = 0; c < kClasses; ++c) {  // dL/do = (softmax − onehot)/B
        Dual dl = e[c] * inv;
        if (c == labels[n]) dl = dl - Dual{1.0, 0.0};
        o[c] = (1.0 / kBatch) * dl;
      }
      for (int k = 0; k < kHidden; ++k) {
        Dual dz{};
        for (int c = 0; c < kClasses; ++c) dz = dz + w2[c * kHidden + k] * o[c];
        if (!(z[k].v > 0.0)) dz = Dual{};
        for (int j = 0; j < kIn; ++j) {
          dA[n * kIn + j] = dA[n * kIn + j] + alpha * (dz * (2.0 * X[k * kIn + j] - Dual{1.0, 0.0}));
          dX[k * kIn + j] = dX[k * kIn + j] + 2.0 * alpha * (dz * A[n * kIn + j]);
        }
      }
    }
    dA.insert(dA.end(), dX.begin(), dX.end());
    return dA;
  }
};

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  return {v.begin(), v.end()};
}

class HessianDeltaTest : public test::DeviceTest {
 protected:
  void SetUp() override {
    test::DeviceTest::SetUp();
    if (IsSkipped()) return;
    Generator gen(7);
    const std::map<std::string, double> opts{{"output_scale", 1.0}};
    layer_ = std::make_shared<QLinear>(kIn, kHidden, true, QuantConfig{"ewgs", 2, QuantTarget::weight, opts},
                                       QuantConfig{"ewgs", 2, QuantTarget::activation, opts}, gen, device());
    head_ = std::make_shared<Linear>(kHidden, kClasses, true, gen, device());
    model_ = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{layer_, std::make_shared<ReLU>(), head_});
    x_ = test::from_ref(test::random_arr({kBatch, kIn}, 0.0, 1.0, 11), device());
    labels_ = Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 0, 1, 2, 2, 1}, {kBatch}, device());
    model_->train();
    (*model_)(x_);  // first-batch initialization of l, u, α
  }
  std::function<Tensor()> loss_fn(float sign = 1.f) {
    return [this, sign] { return mul(cross_entropy((*model_)(x_), labels_), sign); };
  }
  EwgsQuantizer* wq() const { return dynamic_cast<EwgsQuantizer*>(layer_->weight_quantizer()); }
  EwgsQuantizer* aq() const { return dynamic_cast<EwgsQuantizer*>(layer_->input_quantizer()); }

  RefNet reference() const {
    RefNet r;
    r.alpha = std::abs(layer_->output_scale().item());
    r.b1 = to_doubles(layer_->bias());
    r.w2 = to_doubles(head_->weight());
    r.b2 = to_doubles(head_->bias());
    r.labels = {0, 1, 2, 0, 1, 2, 2, 1};
    NoGradGuard no_grad;
    aq()->eval();
    wq()->eval();
    r.a0 = to_doubles(aq()->forward(x_));                                   // x_q
    for (double q : to_doubles(wq()->forward(layer_->weight()))) r.x0.push_back(0.5 * q + 0.5);  // x_q
    aq()->train();
    wq()->train();
    return r;
  }

  std::shared_ptr<QLinear> layer_;
  std::shared_ptr<Linear> head_;
  std::shared_ptr<Sequential> model_;
  Tensor x_, labels_;
};

constexpr size_t kNa = kBatch * kIn, kNw = kHidden * kIn;

// H·d of the reference for d split as (input quantizer, weight quantizer).
std::vector<double> ref_hd(const RefNet& r, const std::vector<double>& da, const std::vector<double>& dx) {
  std::vector<double> out;
  for (const Dual& g : r.grad(da, dx)) out.push_back(g.d);
  return out;
}

TEST_P(HessianDeltaTest, GradientAndFiniteDifferenceProductMatchExact) {
  const RefNet r = reference();
  EwgsHessianProbe probe(*model_, loss_fn());
  ASSERT_EQ(probe.names(), (std::vector<std::string>{"0.wq", "0.aq"}));
  // Base gradient dL/dx_q vs the reference.
  const std::vector<Dual> g = r.grad({}, {});
  for (size_t i = 0; i < kNw; ++i) EXPECT_NEAR(probe.base_gradient()[0][i], g[kNa + i].v, 1e-6) << "wq " << i;
  for (size_t i = 0; i < kNa; ++i) EXPECT_NEAR(probe.base_gradient()[1][i], g[i].v, 1e-6) << "aq " << i;

  // H·d for d = ε·v with a fixed ±1 v, ε = 1e-3 of the 2-bit level spacing.
  const double eps = 1e-3 / 3.0;
  std::vector<double> dw(kNw), da(kNa);
  for (size_t i = 0; i < kNw; ++i) dw[i] = eps * ((i * 7 + 3) % 5 < 2 ? -1.0 : 1.0);
  for (size_t i = 0; i < kNa; ++i) da[i] = eps * ((i * 3 + 1) % 4 < 2 ? -1.0 : 1.0);
  const EwgsHessianProbe::Vecs hd = probe.hessian_direction({dw, da});
  const std::vector<double> want = ref_hd(r, da, dw);
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  ASSERT_GT(scale, 0.0);
  for (size_t i = 0; i < kNw; ++i) EXPECT_NEAR(hd[0][i], want[kNa + i], test::kHessianFdRtol * scale) << "wq " << i;
  for (size_t i = 0; i < kNa; ++i) EXPECT_NEAR(hd[1][i], want[i], test::kHessianFdRtol * scale) << "aq " << i;
}

TEST_P(HessianDeltaTest, HutchinsonTraceMatchesExactTrace) {
  const RefNet r = reference();
  // Exact Hessian (78×78, columns by unit directions) → per-quantizer trace and the standard
  // deviation of one Hutchinson sample when all quantizers are probed at once.
  const size_t n = kNa + kNw;
  std::vector<std::vector<double>> H(n);
  for (size_t c = 0; c < n; ++c) {
    std::vector<double> da(kNa, 0.0), dx(kNw, 0.0);
    (c < kNa ? da[c] : dx[c - kNa]) = 1.0;
    H[c] = ref_hd(r, da, dx);
  }
  auto block = [&](size_t i) { return i < kNa ? 1 : 0; };  // 1 = aq, 0 = wq
  double trace[2] = {0, 0}, var[2] = {0, 0};
  for (size_t a = 0; a < n; ++a) {
    trace[block(a)] += H[a][a];
    for (size_t b = 0; b < n; ++b) {
      if (a == b) continue;
      if (block(a) == block(b)) var[block(a)] += 2.0 * H[a][b] * H[a][b];  // each unordered pair: 4·H² total
      else var[block(a)] += H[a][b] * H[a][b];
    }
  }
  DeltaEstimateOptions o;
  o.max_probes = 3000;
  o.tol = 0.0;  // no early stop
  o.seed = 5;
  const auto est = estimate_ewgs_hessian(*model_, loss_fn(), o);
  const std::pair<const char*, int> names[] = {{"0.wq", 0}, {"0.aq", 1}};
  for (auto [name, b] : names) {
    const EwgsDeltaEstimate& e = est.at(name);
    EXPECT_EQ(e.probes, o.max_probes);
    const double se = std::sqrt(var[b] / o.max_probes);
    EXPECT_GT(std::abs(trace[b]), 3.0 * se) << name << ": the test should resolve the trace";
    EXPECT_NEAR(e.trace, trace[b], test::kHutchinsonSigmas * se + test::kHessianFdRtol * std::abs(trace[b])) << name;
    // δ_batch from the same trace and the base gradient's std.
    const double want = (e.trace / e.numel) / (3.0 * e.grad_std + o.denom_eps);
    EXPECT_DOUBLE_EQ(e.delta_raw, want) << name;
    EXPECT_DOUBLE_EQ(e.delta, std::max(0.0, want)) << name;
    EXPECT_EQ(e.numel, b == 1 ? static_cast<int64_t>(kNa) : static_cast<int64_t>(kNw));
  }
}

TEST_P(HessianDeltaTest, EarlyStopAndDeterminismForASeed) {
  DeltaEstimateOptions o;
  o.seed = 42;
  const auto a = estimate_ewgs_hessian(*model_, loss_fn(), o);
  const auto b = estimate_ewgs_hessian(*model_, loss_fn(), o);
  for (const auto& [name, e] : a) {
    EXPECT_EQ(e.trace, b.at(name).trace) << name;
    EXPECT_EQ(e.delta, b.at(name).delta) << name;
    EXPECT_GE(e.probes, 2);
    EXPECT_LE(e.probes, o.max_probes);
  }
  o.seed = 43;
  const auto c = estimate_ewgs_hessian(*model_, loss_fn(), o);
  EXPECT_NE(a.at("0.aq").trace, c.at("0.aq").trace);
}

TEST_P(HessianDeltaTest, NegativeTraceClipsDeltaAtZero) {
  // −CE has the negated Hessian: Tr(H) < 0, δ_raw < 0, δ = 0.
  const auto est = estimate_ewgs_hessian(*model_, loss_fn(-1.f), {});
  for (const auto& [name, e] : est) {
    EXPECT_LT(e.delta_raw, 0.0) << name;
    EXPECT_EQ(e.delta, 0.0) << name;
  }
  wq()->set_delta(0.5f);
  const auto set = update_ewgs_deltas(*model_, {loss_fn(-1.f), loss_fn(-1.f)}, {});
  EXPECT_EQ(set.at("0.wq"), 0.0);
  EXPECT_EQ(wq()->delta(), 0.f);
  EXPECT_EQ(aq()->delta(), 0.f);
}

TEST_P(HessianDeltaTest, EpsilonKeepsDeltaFiniteForZeroGradients) {
  const auto est = estimate_ewgs_hessian(*model_, loss_fn(0.f), {});
  for (const auto& [name, e] : est) {
    EXPECT_EQ(e.grad_std, 0.0) << name;
    EXPECT_TRUE(std::isfinite(e.delta_raw)) << name;
    EXPECT_EQ(e.delta, 0.0) << name;
  }
}

TEST_P(HessianDeltaTest, UpdateAveragesBatchesAndSetsDelta) {
  DeltaEstimateOptions o;
  o.seed = 9;
  const auto b0 = estimate_ewgs_hessian(*model_, loss_fn(), o);
  DeltaEstimateOptions o1 = o;
  o1.seed = 10;
  const auto b1 = estimate_ewgs_hessian(*model_, loss_fn(), o1);
  const auto set = update_ewgs_deltas(*model_, {loss_fn(), loss_fn()}, o);
  for (const auto& [name, d] : set) {
    EXPECT_DOUBLE_EQ(d, std::max(0.0, 0.5 * (b0.at(name).delta_raw + b1.at(name).delta_raw))) << name;
  }
  EXPECT_EQ(wq()->delta(), static_cast<float>(set.at("0.wq")));
  EXPECT_EQ(aq()->delta(), static_cast<float>(set.at("0.aq")));
  EXPECT_GT(set.at("0.aq") + set.at("0.wq"), 0.0);  // CE is convex in the logits: positive traces here
}

TEST_P(HessianDeltaTest, RefusesUninitializedOrEwgsFreeModels) {
  Generator gen(1);
  auto fresh = std::make_shared<QLinear>(kIn, kHidden, true, QuantConfig{"ewgs", 2, QuantTarget::weight, {}},
                                         QuantConfig{"ewgs", 2, QuantTarget::activation, {}}, gen, device());
  auto loss = [&] { return sum((*fresh)(x_)); };
  EXPECT_THROW(estimate_ewgs_deltas(*fresh, loss, {}), Error);
  auto plain = std::make_shared<Linear>(kIn, kHidden, true, gen, device());
  EXPECT_THROW(estimate_ewgs_deltas(*plain, [&] { return sum((*plain)(x_)); }, {}), Error);
}

// Two quantized layers with BatchNorm and Dropout between them: the state is restored, the ±d
// forwards are identical (the product is exactly odd in d), and the frozen rounding of the second
// layer's input keeps the finite differences free of threshold jumps (two steps agree).
TEST_P(HessianDeltaTest, StateRestoredAndForwardsIdenticalWithBatchNormAndDropout) {
  Generator gen(3);
  const std::map<std::string, double> opts{{"output_scale", 1.0}};
  auto q1 = std::make_shared<QLinear>(kIn, 16, false, QuantConfig{"ewgs", 2, QuantTarget::weight, opts},
                                      QuantConfig{"ewgs", 2, QuantTarget::activation, opts}, gen, device());
  auto bn = std::make_shared<BatchNorm1d>(16, BatchNormOptions{}, device());
  auto q2 = std::make_shared<QLinear>(16, kClasses, false, QuantConfig{"ewgs", 2, QuantTarget::weight, opts},
                                      QuantConfig{"ewgs", 2, QuantTarget::activation, opts}, gen, device());
  Generator drop_gen(4);
  auto net = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      q1, bn, std::make_shared<ReLU>(), std::make_shared<Dropout>(0.3f, &drop_gen), q2});
  const Tensor x = test::from_ref(test::random_arr({32, kIn}, 0.0, 1.0, 21), device());
  std::vector<int32_t> lab(32);
  for (int i = 0; i < 32; ++i) lab[i] = i % kClasses;
  const Tensor labels = Tensor::from_vector(lab, {32}, device());
  auto loss = [&] { return cross_entropy((*net)(x), labels); };
  net->train();
  loss().backward();  // initializes the layers and leaves gradients on the parameters
  net->eval();
  dynamic_cast<EwgsQuantizer*>(q2->input_quantizer())->set_delta(0.25f);

  const std::vector<float> mean0 = bn->running_mean().to_vector(), var0 = bn->running_var().to_vector();
  const std::vector<float> grad0 = q1->weight().grad().to_vector();
  {
    EwgsHessianProbe probe(*net, loss);
    ASSERT_EQ(probe.names().size(), 4u);
    EwgsHessianProbe::Vecs d, minus, big;
    for (size_t i = 0; i < 4; ++i) {
      const size_t m = probe.base_gradient()[i].size();
      const double eps = 1e-3 / 3.0;
      d.emplace_back(m);
      for (size_t j = 0; j < m; ++j) d[i][j] = eps * ((j * 5 + i) % 3 == 0 ? -1.0 : 1.0);
      minus.push_back(d[i]);
      for (double& v : minus.back()) v = -v;
      big.push_back(d[i]);
      for (double& v : big.back()) v *= 4.0;
    }
    const auto hp = probe.hessian_direction(d), hm = probe.hessian_direction(minus), hb = probe.hessian_direction(big);
    for (size_t i = 0; i < 4; ++i) {
      double scale = 0.0;
      for (size_t j = 0; j < hp[i].size(); ++j) {
        EXPECT_EQ(hp[i][j], -hm[i][j]) << probe.names()[i] << " " << j;
        scale = std::max(scale, std::abs(hp[i][j]));
      }
      for (size_t j = 0; j < hp[i].size(); ++j)
        EXPECT_NEAR(4.0 * hp[i][j], hb[i][j], 0.05 * 4.0 * scale) << probe.names()[i] << " " << j;
    }
  }
  EXPECT_EQ(bn->running_mean().to_vector(), mean0);
  EXPECT_EQ(bn->running_var().to_vector(), var0);
  EXPECT_EQ(q1->weight().grad().to_vector(), grad0);
  EXPECT_TRUE(q1->weight().requires_grad());
  EXPECT_FALSE(net->is_training());
  EXPECT_FALSE(q2->input_quantizer()->is_training());
  EXPECT_EQ(dynamic_cast<EwgsQuantizer*>(q2->input_quantizer())->delta(), 0.25f);
  EXPECT_FALSE(dynamic_cast<EwgsQuantizer*>(q2->input_quantizer())->probe_enabled());
  // The estimate itself leaves the running statistics alone too, and its δ's are finite.
  for (const auto& [name, dl] : estimate_ewgs_deltas(*net, loss, {})) EXPECT_TRUE(std::isfinite(dl)) << name;
  EXPECT_EQ(bn->running_mean().to_vector(), mean0);
  EXPECT_EQ(bn->running_var().to_vector(), var0);
}

LOWBIT_INSTANTIATE_DEVICES(HessianDeltaTest);

}  // namespace
}  // namespace lowbit
