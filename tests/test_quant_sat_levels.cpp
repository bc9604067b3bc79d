// SAT weight statistics from level indices (kernels/quant/sat_math.h): for the dyadic schemes the
// CUDA statistics pass sums the level indices k and k² instead of Q and Q², and
// sat_q_sums_from_levels turns them into Σ Q and Σ Q². Checked here, exactly, against the direct
// double sums of the f32 Q values, for every width, both dyadic schemes and weights that reach
// every level and the clip ends (t = ±M).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/quant/sat_math.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

using quant::SatScheme;

TEST(SatLevelSums, EqualTheDirectSumsOfQExactly) {
  const ref::Arr w = random_arr({4099}, -3.0, 3.0, 41);
  float M = 0.f;
  for (double v : w.v) M = std::fmax(M, quant::sat_abs_tanh(static_cast<float>(v)));
  for (int bits = 1; bits <= 8; ++bits) {
    for (SatScheme scheme : {SatScheme::modified, SatScheme::centered}) {
      const int s = static_cast<int>(scheme);
      const auto dv = quant::sat_divisors<float>(M, bits);
      double sum_q = 0.0, sum_q2 = 0.0, sk = 0.0, sk2 = 0.0;
      std::vector<int> seen(1 << bits, 0);
      for (double v : w.v) {
        const float x = static_cast<float>(v);
        const double q = quant::sat_weight_Q(x, M, bits, s);
        sum_q += q;
        sum_q2 += q * q;
        const float k = quant::sat_weight_k(quant::sat_weight_u(x, dv), bits);
        ASSERT_EQ(k, std::floor(k));
        ASSERT_GE(k, 0.f);
        ASSERT_LT(k, static_cast<float>(1 << bits));
        // Q is the affine image of k the identity relies on.
        const double n = static_cast<double>(1 << bits);
        const double c = scheme == SatScheme::modified ? -n : 1.0 - n;
        ASSERT_EQ(q, (2.0 * k + c) / n) << "bits " << bits << " scheme " << s << " x " << x;
        ++seen[static_cast<size_t>(k)];
        sk += k;
        sk2 += static_cast<double>(k) * k;
      }
      EXPECT_GT(seen.front(), 0) << bits;  // the clip ends are reached
      EXPECT_GT(seen.back(), 0) << bits;
      double got_q = 0.0, got_q2 = 0.0;
      quant::sat_q_sums_from_levels(static_cast<double>(w.v.size()), sk, sk2, bits, s, &got_q, &got_q2);
      EXPECT_EQ(got_q, sum_q) << "bits " << bits << " scheme " << s;
      EXPECT_EQ(got_q2, sum_q2) << "bits " << bits << " scheme " << s;
    }
  }
}

}  // namespace
}  // namespace lowbit::test
