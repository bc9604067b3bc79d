// Initializers: fan computation and the in-place random fills (one Philox stream per fill).
#include "layers/init.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/elementwise.h"

namespace lowbit::init {

namespace {

float fan_of(const Tensor& t, FanMode mode, int64_t groups, const char* who) {
  Fans f = compute_fans(t.shape(), groups);
  const int64_t fan = mode == FanMode::In ? f.in : f.out;
  LOWBIT_CHECK(fan > 0, who, ": fan is 0 for shape ", shape_str(t.shape()));
  return static_cast<float>(fan);
}

void check_float(const Tensor& t, const char* who) {
  LOWBIT_CHECK(t.defined(), who, ": the tensor is undefined");
  check_dtype(t, DType::f32, who, "tensor");
}

}  // namespace

Fans compute_fans(const Shape& shape, int64_t groups) {
  LOWBIT_CHECK(shape.size() >= 2, "compute_fans: a weight needs rank >= 2 ([out, in] or [O, KH, KW, C/groups]), got ",
               shape_str(shape));
  LOWBIT_CHECK(groups >= 1 && shape[0] % groups == 0, "compute_fans: groups (", groups,
               ") must be >= 1 and divide the output count ", shape[0]);
  int64_t receptive = 1;  // KH·KW·... between the output and input axes
  for (size_t i = 1; i + 1 < shape.size(); ++i) receptive *= shape[i];
  return {receptive * shape.back(), shape[0] * receptive / groups};
}

float relu_gain() { return std::sqrt(2.f); }
float leaky_relu_gain(float negative_slope) { return std::sqrt(2.f / (1.f + negative_slope * negative_slope)); }

Tensor normal_(Tensor t, Generator& gen, float mean, float std) {
  check_float(t, "normal_");
  LOWBIT_CHECK(std >= 0.f, "normal_: std must be non-negative, got ", std);
  NoGradGuard no_grad;
  t.copy_(Tensor::randn(t.shape(), t.device(), &gen) * std + mean);
  return t;
}

Tensor uniform_(Tensor t, Generator& gen, float lo, float hi) {
  check_float(t, "uniform_");
  LOWBIT_CHECK(lo <= hi, "uniform_: lo (", lo, ") must not exceed hi (", hi, ")");
  NoGradGuard no_grad;
  t.copy_(Tensor::rand(t.shape(), t.device(), &gen) * (hi - lo) + lo);
  return t;
}

Tensor constant_(Tensor t, float value) {
  check_float(t, "constant_");
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor kaiming_normal_(Tensor t, Generator& gen, FanMode mode, float gain, int64_t groups) {
  check_float(t, "kaiming_normal_");
  return normal_(t, gen, 0.f, gain / std::sqrt(fan_of(t, mode, groups, "kaiming_normal_")));
}

Tensor kaiming_uniform_(Tensor t, Generator& gen, FanMode mode, float gain, int64_t groups) {
  check_float(t, "kaiming_uniform_");
  const float bound = gain * std::sqrt(3.f / fan_of(t, mode, groups, "kaiming_uniform_"));
  return uniform_(t, gen, -bound, bound);
}

Tensor xavier_normal_(Tensor t, Generator& gen, float gain, int64_t groups) {
  check_float(t, "xavier_normal_");
  Fans f = compute_fans(t.shape(), groups);
  return normal_(t, gen, 0.f, gain * std::sqrt(2.f / static_cast<float>(f.in + f.out)));
}

Tensor xavier_uniform_(Tensor t, Generator& gen, float gain, int64_t groups) {
  check_float(t, "xavier_uniform_");
  Fans f = compute_fans(t.shape(), groups);
  const float bound = gain * std::sqrt(6.f / static_cast<float>(f.in + f.out));
  return uniform_(t, gen, -bound, bound);
}

void layer_default_(Tensor weight, Tensor bias, Generator& gen) {
  check_float(weight, "layer_default_");
  const float bound = 1.f / std::sqrt(fan_of(weight, FanMode::In, 1, "layer_default_"));
  uniform_(weight, gen, -bound, bound);
  if (bias.defined()) uniform_(bias, gen, -bound, bound);
}

}  // namespace lowbit::init
