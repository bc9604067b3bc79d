// The CPU quantizer loop drivers (kernels/cpu/quant_loop.h) and the loops built on them
// (kernels/cpu/quant_*.cpp): element outputs bit for bit equal to the per-element math applied in
// a plain loop (around chunk, block and lane edges, on 1, 2 and 3 threads, with ties, zeros,
// infinities and NaNs in the inputs); sums exact on integer-valued terms and bit for bit the same
// for every thread count; the parameter gradients within 1e-12 of one plain double sum; max_of.
// NaN outputs compare equal to NaN whatever their sign bit (where two NaNs meet, x86 keeps the
// first operand's, and a vectorized loop may order a commutative operation the other way).
// (The math itself is checked against the float64 references in the test_quant_*.cpp files.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/quant_baseline.h"
#include "kernels/cpu/quant_daq.h"
#include "kernels/cpu/quant_ewgs.h"
#include "kernels/cpu/quant_loop.h"
#include "kernels/cpu/quant_lsq.h"
#include "kernels/cpu/quant_sat.h"
#include "kernels/cpu/xnor_gemm.h"
#include "kernels/quant/baseline_math.h"
#include "kernels/quant/ewgs_math.h"
#include "kernels/quant/lsq_math.h"
#include "kernels/quant/sat_math.h"

namespace lowbit {
namespace {

using cpu::qloop::kBlock;
using cpu::qloop::kChunk;

// Sizes around the chunk (threads' unit), block (term buffer) and lane edges.
const int64_t kSizes[] = {1, 3, kBlock - 1, kBlock + 5, kChunk - 1, kChunk + 1, 3 * kChunk + 17};

// Uniform values in [-1.5, 1.5) (a fixed LCG), with exact ties on a 1/32 grid, zeros of both signs,
// ±1, ±infinity and, if nan, NaNs mixed in.
std::vector<float> values(int64_t n, uint32_t seed, bool nan) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    float u = -1.5f + 3.f * static_cast<float>(s >> 8) / 16777216.f;
    if (i % 5 == 1) u = std::round(u * 32.f) / 32.f;
    const float special[] = {0.f, -0.f, 1.f, -1.f, std::numeric_limits<float>::infinity(),
                             -std::numeric_limits<float>::infinity()};
    if (i % 97 == 7) u = special[(i / 97) % 6];
    if (nan && i % 211 == 13) u = std::numeric_limits<float>::quiet_NaN();
    v[static_cast<size_t>(i)] = u;
  }
  return v;
}

void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0 && !(std::isnan(got[i]) && std::isnan(want[i]))) {
      ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
      return;
    }
  }
}

class QuantLoop : public ::testing::Test {
 protected:
  void TearDown() override { cpu::set_xnor_threads(0); }
};

TEST_F(QuantLoop, SumIsExactOnIntegerTermsAndMaxOfIsTheMax) {
  for (int threads : {1, 2, 3}) {
    cpu::set_xnor_threads(threads);
    for (int64_t n : kSizes) {
      // Terms i % 7 and −(i % 3): every partial sum is an integer below 2^53, so any order is exact.
      const auto s = cpu::qloop::sum<2>(n, cpu::qloop::kCheap, [](int64_t i) {
        return std::array<float, 2>{static_cast<float>(i % 7), -static_cast<float>(i % 3)};
      });
      double want0 = 0, want1 = 0;
      for (int64_t i = 0; i < n; ++i) want0 += static_cast<double>(i % 7), want1 -= static_cast<double>(i % 3);
      EXPECT_EQ(s[0], want0) << "n=" << n << " threads=" << threads;
      EXPECT_EQ(s[1], want1) << "n=" << n << " threads=" << threads;
      const std::vector<float> v = values(n, 5, true);
      float want_max = 0.f;
      for (float x : v) want_max = std::max(want_max, std::fabs(x) < 1e30f ? std::fabs(x) : 0.f);
      EXPECT_EQ(cpu::qloop::max_of(n, cpu::qloop::kCheap,
                                   [&](int64_t i) { return std::fabs(v[i]) < 1e30f ? std::fabs(v[i]) : 0.f; }),
                want_max);
    }
  }
}

TEST_F(QuantLoop, ElementOutputsMatchThePerElementMathBitForBit) {
  for (bool nan : {false, true})
    for (int64_t n : kSizes) {
      const std::vector<float> x = values(n, 1, nan), g = values(n, 2, nan);
      // The plain loops (one thread, no driver).
      std::vector<float> ewgs_y(x.size()), ewgs_dx(x.size()), lsq_dx(x.size()), ste_dx(x.size()), pact_dx(x.size()),
          cg_y(x.size());
      double lsq_ds = 0.0;
      for (size_t i = 0; i < x.size(); ++i) {
        ewgs_y[i] = ewgs_forward_value(x[i], -0.9f, 1.1f, 15.f, true);
        ewgs_dx[i] = ewgs_backward_value(x[i], g[i], -0.9f, 1.1f, 1e-3f, 15.f, true).dx;
        const LsqGrad r = lsq_backward_value(x[i], g[i], 0.125f, 8.f, 7.f);
        lsq_dx[i] = r.dx;
        lsq_ds += r.ds;
        ste_dx[i] = g[i] * basemath::ste_backward(x[i], true);
        pact_dx[i] = g[i] * basemath::pact_backward(x[i], 0.8f);
        cg_y[i] = quant::cgpact_forward(x[i], 0.8f, quant::sat_act_steps(4));
      }
      for (int threads : {1, 2, 3}) {
        cpu::set_xnor_threads(threads);
        const std::string what = "n=" + std::to_string(n) + " threads=" + std::to_string(threads) + (nan ? " nan" : "");
        std::vector<float> out(x.size());
        double dl = 0, du = 0, ds = 0;
        cpu::ewgs_forward(x.data(), out.data(), n, -0.9f, 1.1f, 15.f, true);
        expect_bits_equal(out, ewgs_y, "ewgs forward " + what);
        cpu::ewgs_backward(x.data(), g.data(), out.data(), n, -0.9f, 1.1f, 1e-3f, 15.f, true, &dl, &du);
        expect_bits_equal(out, ewgs_dx, "ewgs dx " + what);
        cpu::lsq_backward(x.data(), g.data(), out.data(), n, 0.125f, 8.f, 7.f, 1.0, &ds);
        expect_bits_equal(out, lsq_dx, "lsq dx " + what);
        if (std::isfinite(lsq_ds)) {
          EXPECT_NEAR(ds, lsq_ds, 1e-12 * (1.0 + std::abs(lsq_ds))) << "lsq ds " << what;
        } else {
          EXPECT_FALSE(std::isfinite(ds)) << "lsq ds " << what;  // (±infinity or NaN inputs)
        }
        cpu::qbase::ste_backward(x.data(), g.data(), out.data(), n, true);
        expect_bits_equal(out, ste_dx, "ste dx " + what);
        float dalpha = 0;
        cpu::qbase::pact_backward(x.data(), g.data(), out.data(), n, 0.8f, &dalpha);
        expect_bits_equal(out, pact_dx, "pact dx " + what);
        const float alpha_p = -0.8f;  // α = |α_p|
        cpu::cgpact_forward(x.data(), out.data(), n, 4, &alpha_p);
        expect_bits_equal(out, cg_y, "cgpact forward " + what);
      }
    }
}

TEST_F(QuantLoop, ParameterGradientsAndStatisticsDoNotDependOnThreads) {
  const int64_t n = 5 * kChunk + 123;
  const std::vector<float> x = values(n, 3, false), g = values(n, 4, false);
  // Finite inputs only here (the sums of ±infinity would be NaN); g spans 2^±20, so that the
  // double sums round and their value depends on the order of the additions.
  std::vector<float> xf(x), gf(g);
  for (float& v : xf) v = std::isfinite(v) ? v : 0.5f;
  for (size_t i = 0; i < gf.size(); ++i)
    gf[i] = std::ldexp(std::isfinite(gf[i]) ? gf[i] : -0.25f, static_cast<int>((i * 7919) % 41) - 20);
  struct Sums {
    double ewgs_dl, ewgs_du, lsq_ds, daq_dl, daq_du;
    float pact, cgpact, daq_stats[2], sat_stats[3], dorefa_stats[2];
    std::vector<float> xnor_alpha;
  };
  auto run = [&](int threads) {
    cpu::set_xnor_threads(threads);
    Sums s;
    std::vector<float> out(static_cast<size_t>(n));
    cpu::ewgs_backward(xf.data(), gf.data(), out.data(), n, -0.9f, 1.1f, 1e-3f, 15.f, false, &s.ewgs_dl, &s.ewgs_du);
    cpu::lsq_backward(xf.data(), gf.data(), out.data(), n, 0.125f, 8.f, 7.f, 0.5, &s.lsq_ds);
    cpu::qbase::pact_backward(xf.data(), gf.data(), out.data(), n, 0.8f, &s.pact);
    const float alpha_p = 0.8f;
    cpu::cgpact_backward(gf.data(), xf.data(), out.data(), &s.cgpact, n, 4, &alpha_p);
    cpu::daq_weight_stats(xf.data(), n, s.daq_stats);
    cpu::daq_backward(xf.data(), gf.data(), out.data(), n, -1.2f, 1.3f, s.daq_stats, daq_consts(4, 2.0, 0.5, true),
                      &s.daq_dl, &s.daq_du);
    cpu::sat_weight_stats(xf.data(), n, 4, 0, true, 64, s.sat_stats);
    cpu::qbase::dorefa_wk_forward(xf.data(), out.data(), n, 4, s.dorefa_stats);
    s.xnor_alpha.resize(n / 1000);
    cpu::qbase::xnor_weight_forward(xf.data(), out.data(), s.xnor_alpha.data(), n / 1000, 1000);
    return s;
  };
  const Sums one = run(1);
  {  // The sums are order-sensitive here: reversing one changes it.
    double forward = 0.0, backward = 0.0;
    for (int64_t i = 0; i < n; ++i) forward += basemath::pact_alpha_term(xf[i], gf[i], 0.8f);
    for (int64_t i = n - 1; i >= 0; --i) backward += basemath::pact_alpha_term(xf[i], gf[i], 0.8f);
    ASSERT_NE(forward, backward);
  }
  // Against one plain double sum: the driver only reorders the additions.
  double pact = 0.0, ewgs_dl = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    pact += basemath::pact_alpha_term(xf[i], gf[i], 0.8f);
    ewgs_dl += ewgs_backward_value(xf[i], gf[i], -0.9f, 1.1f, 1e-3f, 15.f, false).dl;
  }
  EXPECT_NEAR(one.pact, pact, 1e-6 * (1.0 + std::abs(pact)));  // (a float result)
  EXPECT_NEAR(one.ewgs_dl, ewgs_dl, 1e-12 * (1.0 + std::abs(ewgs_dl)));
  for (int threads : {2, 3}) {
    const Sums t = run(threads);
    SCOPED_TRACE("threads=" + std::to_string(threads));
    EXPECT_EQ(t.ewgs_dl, one.ewgs_dl);
    EXPECT_EQ(t.ewgs_du, one.ewgs_du);
    EXPECT_EQ(t.lsq_ds, one.lsq_ds);
    EXPECT_EQ(t.pact, one.pact);
    EXPECT_EQ(t.cgpact, one.cgpact);
    EXPECT_EQ(t.daq_dl, one.daq_dl);
    EXPECT_EQ(t.daq_du, one.daq_du);
    for (int k = 0; k < 2; ++k) EXPECT_EQ(t.daq_stats[k], one.daq_stats[k]);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(t.sat_stats[k], one.sat_stats[k]);
    for (int k = 0; k < 2; ++k) EXPECT_EQ(t.dorefa_stats[k], one.dorefa_stats[k]);
    EXPECT_EQ(t.xnor_alpha, one.xnor_alpha);
  }
}

}  // namespace
}  // namespace lowbit
