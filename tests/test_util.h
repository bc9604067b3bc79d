// Test helpers: device-parameterized fixtures (every suite runs on CPU and CUDA; CUDA instances
// skip without a GPU), conversions between Tensors and float64 reference arrays, closeness
// checks with the tolerances of tolerances.h, random inputs from a fixed seed, and expect_error
// for the messages of refused calls.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"
#include "tests/reference/array.h"
#include "tests/tolerances.h"

namespace lowbit::test {

// Base fixture for device-parameterized suites:
//   class MyTest : public DeviceTest {};
//   TEST_P(MyTest, Case) { Tensor x = Tensor::rand({3}, device()); ... }
//   LOWBIT_INSTANTIATE_DEVICES(MyTest);
class DeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (GetParam().is_cuda() && !cuda_available())
      GTEST_SKIP() << (built_with_cuda() ? "no CUDA device present" : "built without CUDA");
  }
  Device device() const { return GetParam(); }
};

inline std::string device_param_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "CPU" : "CUDA";
}

#define LOWBIT_INSTANTIATE_DEVICES(Suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Devices, Suite, ::testing::Values(::lowbit::Device::cpu(), ::lowbit::Device::cuda()), \
                           ::lowbit::test::device_param_name)

// Tensor (any device, f32) -> float64 reference array, and back.
inline ref::Arr to_ref(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  return ref::Arr{t.shape(), std::vector<double>(v.begin(), v.end())};
}
inline Tensor from_ref(const ref::Arr& a, Device device = Device::cpu()) {
  return Tensor::from_vector(std::vector<float>(a.v.begin(), a.v.end()), a.shape, device);
}

// Uniform values in [lo, hi) from Philox with a fixed seed, as a float64 array (so the same
// values feed the kernel and the reference).
inline ref::Arr random_arr(const Shape& shape, double lo = -1.0, double hi = 1.0, uint64_t seed = 1234) {
  Generator gen(seed);
  std::vector<float> u = Tensor::rand(shape, Device::cpu(), &gen).to_vector();
  ref::Arr a{shape, {}};
  for (float x : u) a.v.push_back(static_cast<double>(static_cast<float>(lo + (hi - lo) * x)));
  return a;
}

// EXPECT that every element matches within atol + rtol*|want|; reports the first few misses.
inline void expect_close(const ref::Arr& want, const ref::Arr& got, double atol, double rtol,
                         const std::string& what = "") {
  ASSERT_EQ(want.shape, got.shape) << what << ": shape mismatch";
  int reported = 0;
  for (size_t i = 0; i < want.v.size(); ++i) {
    double tol = atol + rtol * std::abs(want.v[i]);
    bool ok = std::abs(want.v[i] - got.v[i]) <= tol || (std::isnan(want.v[i]) && std::isnan(got.v[i]));
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " want " << want.v[i] << " got " << got.v[i] << " (tol " << tol
                    << ")";
  }
}
inline void expect_close(const ref::Arr& want, const Tensor& got, double atol = kForwardAtol,
                         double rtol = kForwardRtol, const std::string& what = "") {
  expect_close(want, to_ref(got), atol, rtol, what);
}

// Fills a tensor with NaN so that an element a kernel forgets to write fails the comparison.
inline Tensor poisoned(const Shape& shape, Device device) {
  return Tensor::full(shape, std::nanf(""), DType::f32, device);
}

// Runs f, expects a lowbit::Error whose message contains every string in `parts`.
template <typename F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected lowbit::Error";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), ::testing::HasSubstr(p));
  }
}

}  // namespace lowbit::test
