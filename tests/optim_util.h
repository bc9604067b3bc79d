// Test helpers for the optimizer tests: 1-D parameters and gradients from plain vectors, and the
// element-wise comparison of updated parameters with a float64 oracle's.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "tests/tolerances.h"

namespace lowbit::test {

// A 1-D parameter (requires grad) holding v.
inline Tensor param(const std::vector<float>& v, Device device = Device::cpu()) {
  Tensor p = Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, device);
  p.requires_grad_(true);
  return p;
}

// A 1-D f32 gradient holding g.
inline Tensor grad_tensor(const std::vector<double>& g, Device device) {
  return Tensor::from_vector(std::vector<float>(g.begin(), g.end()), {static_cast<int64_t>(g.size())}, device);
}

// EXPECTs got == want element-wise within kForwardAtol + kForwardRtol·|want|.
inline void expect_near_ref(const std::vector<float>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], kForwardAtol + kForwardRtol * std::abs(want[i])) << what << ", element " << i;
}

}  // namespace lowbit::test
