// Golden quantizer vectors (tests/data/vectors/*.json, copied from shared/spec/vectors; see its
// README for the format and conventions): loading, and the comparisons the README prescribes for
// float32 kernels — element-wise |a − b| ≤ 1e-5·(1 + |b|), parameter gradients
// |a − b| ≤ 1e-5·(1 + S) with S = Σ|per-element contributions|.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "quant/quantizer.h"

namespace lowbit::test {

struct GoldenCase {
  std::string id, variant;
  int bits = 0;
  nlohmann::json params, extra;
  Shape shape;
  std::vector<double> x, g, y;
  std::map<std::string, std::vector<double>> grads;  // "dx", "dl", "du", ...

  double param(const std::string& key) const { return params.at(key).get<double>(); }
  bool has_param(const std::string& key) const { return params.contains(key); }
  std::vector<double> extra_vec(const std::string& key) const { return extra.at(key).get<std::vector<double>>(); }
  // Σ|per-element contributions| of a parameter gradient ("dl" -> extra.dl_per_element), or 0.
  double abs_sum(const std::string& grad) const {
    std::string key = grad + "_per_element";
    if (!extra.contains(key)) return 0.0;
    double s = 0.0;
    for (double v : extra.at(key).get<std::vector<double>>()) s += std::abs(v);
    return s;
  }
};

inline std::vector<GoldenCase> load_golden(const std::string& method) {
  std::string path = std::string(LOWBIT_TEST_DATA_DIR) + "/vectors/" + method + ".json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden vectors " + path);
  nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<GoldenCase> cases;
  for (const auto& c : doc.at("cases")) {
    GoldenCase gc;
    gc.id = c.at("id");
    gc.variant = c.at("variant");
    gc.bits = c.at("bits");
    gc.params = c.at("params");
    gc.extra = c.value("extra", nlohmann::json::object());
    gc.shape = c.at("shape").get<Shape>();
    gc.x = c.at("x").get<std::vector<double>>();
    gc.g = c.at("g").get<std::vector<double>>();
    gc.y = c.at("y").get<std::vector<double>>();
    for (const auto& [k, v] : c.at("grads").items()) gc.grads[k] = v.get<std::vector<double>>();
    cases.push_back(std::move(gc));
  }
  return cases;
}

inline constexpr double kGoldenF32Tol = 1e-5;   // float32 kernels (README "How to compare")
inline constexpr double kGoldenF64Tol = 1e-12;  // float64 references

// Element-wise comparison: |a − b| ≤ tol·(1 + |b|).
inline void expect_golden(const std::vector<double>& want, const std::vector<float>& got, const std::string& what,
                          double tol = kGoldenF32Tol) {
  ASSERT_EQ(want.size(), got.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::abs(got[i] - want[i]) > tol * (1.0 + std::abs(want[i])) && reported++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: want " << want[i] << " got " << got[i];
  }
}

// Parameter gradient: |a − b| ≤ tol·(1 + S).
inline void expect_golden_param(double want, double got, double abs_sum, const std::string& what,
                                double tol = kGoldenF32Tol) {
  EXPECT_LE(std::abs(got - want), tol * (1.0 + abs_sum)) << what << ": want " << want << " got " << got;
}

// The quantizer target a golden case describes ("weight" variants vs activations).
inline QuantTarget target_of(const GoldenCase& c) {
  return c.variant == "weight" ? QuantTarget::weight : QuantTarget::activation;
}

// A 0-d f32 quantizer parameter with value v (requiring grad unless told otherwise).
inline Tensor scalar(double v, Device device, bool grad = true) {
  Tensor t = Tensor::full({}, static_cast<float>(v), DType::f32, device);
  if (grad) t.requires_grad_();
  return t;
}

inline Tensor golden_tensor(const std::vector<double>& v, const Shape& shape, Device device) {
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape, device);
}

}  // namespace lowbit::test
