// The data-driven initial clip of PACT and CG-PACT (pact_mse_clip, quant/pact.h): the grid point
// it returns has, within 1%, the smallest quantization error of the whole grid as computed
// exactly (every element, float64 PACT reference) rather than from the histogram; outliers do not
// drag it up; more bits give a larger clip; and both quantizers use it when no constant is set.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "quant/pact.h"
#include "quant/sat.h"
#include "tests/reference/quant_baseline.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

constexpr int kGrid = 200;  // the grid of pact_mse_clip: top·k/200

// Σ (relu(x) − pact(x; α))² over every element, in float64.
double exact_error(const ref::Arr& x, double alpha, int bits) {
  ref::QuantResult q = ref::pact_quant(x, x, alpha, bits);
  double e = 0.0;
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double d = std::max(x.v[i], 0.0) - q.y.v[i];
    e += d * d;
  }
  return e;
}

// Post-ReLU-like values: about 40% non-positive, the rest exponential with mean `scale`.
ref::Arr activations(int64_t n, double scale, uint64_t seed) {
  ref::Arr u = random_arr({n}, -0.4, 0.6, seed), v = random_arr({n}, 1e-6, 1.0, seed + 1);
  ref::Arr x{{n}, {}};
  for (int64_t i = 0; i < n; ++i)
    x.v.push_back(u.v[i] < 0 ? u.v[i] : static_cast<double>(static_cast<float>(-scale * std::log(v.v[i]))));
  return x;
}

void expect_grid_optimum(const ref::Arr& x, int bits) {
  const float alpha = pact_mse_clip(from_ref(x), bits);
  double top = 0.0;
  for (double v : x.v) top = std::max(top, v);
  // On the grid.
  const double k = alpha / top * kGrid;
  EXPECT_NEAR(k, std::round(k), 1e-3) << "alpha " << alpha << " top " << top;
  double best = std::numeric_limits<double>::infinity();
  for (int j = 1; j <= kGrid; ++j) best = std::min(best, exact_error(x, top * j / kGrid, bits));
  EXPECT_LE(exact_error(x, alpha, bits), best * 1.01) << bits << " bits, alpha " << alpha;
}

TEST(PactClipInit, GridOptimumOfTheExactError) {
  for (int bits : {1, 2, 4, 8}) {
    SCOPED_TRACE(bits);
    expect_grid_optimum(activations(20000, 0.5, 7), bits);
    expect_grid_optimum(random_arr({5000}, 0.0, 3.0, 11), bits);  // uniform
  }
}

TEST(PactClipInit, OutliersAndBits) {
  ref::Arr x = activations(20000, 0.5, 21);
  x.v[17] = 10.0;  // one outlier, 20 means out: the max (its own squared error is ~50, the bulk's clip error less)
  const float a2 = pact_mse_clip(from_ref(x), 2), a4 = pact_mse_clip(from_ref(x), 4);
  EXPECT_LT(a2, 5.f) << "the clip follows the bulk, not the max";
  EXPECT_GT(a2, 0.25f);
  EXPECT_GT(a4, a2) << "more levels afford a larger clip";
  // Nothing positive: the neutral 1.
  EXPECT_EQ(pact_mse_clip(Tensor::from_vector({-1.f, 0.f, -3.f}, {3}), 2), 1.f);
  EXPECT_EQ(pact_mse_clip(Tensor::zeros({4}), 2), 1.f);
  EXPECT_THROW(pact_mse_clip(Tensor::ones({3}), 9), Error);
}

class ClipInitQuantizers : public DeviceTest {};

TEST_P(ClipInitQuantizers, PactAndCgPactFitTheFirstBatch) {
  const ref::Arr xr = activations(4096, 0.3, 5);
  Tensor x = from_ref(xr, device()).reshape({16, 256});
  const float want2 = pact_mse_clip(from_ref(xr), 2);
  struct Case {
    std::shared_ptr<Quantizer> q;
    float want;
  };
  const std::vector<Case> cases = {
      {make_pact_quantizer({"pact", 2, QuantTarget::activation, {}}), want2},
      {make_pact_quantizer({"pact", 2, QuantTarget::activation, {{"alpha", 10.0}}}), 10.f},
      {make_sat_quantizer({"sat", 2, QuantTarget::activation, {}}), want2},
      {make_sat_quantizer({"sat", 2, QuantTarget::activation, {{"alpha_init", 6.0}}}), 6.f},
      {make_sat_quantizer({"sat", 2, QuantTarget::activation, {{"clip_init", 1.0}}}), 10.f},  // AdaBits, FC input
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.q->config().str());
    c.q->to(device());
    c.q->initialize(x);
    EXPECT_TRUE(c.q->initialized());
    ASSERT_EQ(c.q->named_parameters().size(), 1u);
    EXPECT_EQ(c.q->named_parameters()[0].second.item(), c.want);
  }
  auto conv = make_sat_quantizer({"sat", 2, QuantTarget::activation, {{"clip_init", 1.0}}});
  conv->initialize(Tensor::ones({2, 4, 4, 3}));
  EXPECT_EQ(conv->named_parameters()[0].second.item(), 8.f) << "AdaBits' conv-input clip";
  EXPECT_THROW(make_sat_quantizer({"sat", 2, QuantTarget::activation, {{"clip_init", 2.0}}}), Error);
}

LOWBIT_INSTANTIATE_DEVICES(ClipInitQuantizers);

}  // namespace
}  // namespace lowbit::test
