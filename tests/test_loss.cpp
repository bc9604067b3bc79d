// Tests for softmax, log_softmax and cross_entropy (core/ops/loss.h): forward and gradients
// against ref::softmax / ref::log_softmax / ref::cross_entropy over shapes and axes, stability
// with logits near 1000, label smoothing, the fused gradient formula, and label errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/loss.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

class LossTest : public DeviceTest {};

struct AxisCase {
  Shape shape;
  int64_t axis;
};
const std::vector<AxisCase> kAxisCases = {{{7}, 0},        {{3, 5}, -1},       {{3, 5}, 0},
                                          {{2, 3, 4}, 1}, {{2, 3, 2, 4}, 3}, {{2, 3, 2, 4}, 0}};

ref::Arr ref_loss(const ref::Arr& logits, const std::vector<int64_t>& labels, double smoothing) {
  return ref::Arr{{}, {ref::cross_entropy(logits, labels, smoothing)}};
}

Tensor labels_tensor(const std::vector<int64_t>& labels, Device d) {
  return Tensor::from_vector(std::vector<int32_t>(labels.begin(), labels.end()), {static_cast<int64_t>(labels.size())}, d);
}

TEST_P(LossTest, SoftmaxMatchesReference) {
  for (const AxisCase& c : kAxisCases) {
    SCOPED_TRACE(shape_str(c.shape) + " axis " + std::to_string(c.axis));
    int64_t axis = c.axis;
    check_op([axis](const std::vector<Tensor>& in) { return softmax(in[0], axis); },
             [axis](const std::vector<ref::Arr>& in) { return ref::softmax(in[0], axis); },
             {random_arr(c.shape, -3, 3, 61)}, device());
  }
}

TEST_P(LossTest, LogSoftmaxMatchesReference) {
  for (const AxisCase& c : kAxisCases) {
    SCOPED_TRACE(shape_str(c.shape) + " axis " + std::to_string(c.axis));
    int64_t axis = c.axis;
    check_op([axis](const std::vector<Tensor>& in) { return log_softmax(in[0], axis); },
             [axis](const std::vector<ref::Arr>& in) { return ref::log_softmax(in[0], axis); },
             {random_arr(c.shape, -3, 3, 62)}, device());
  }
}

TEST_P(LossTest, StableForLargeLogits) {
  // exp(1000) overflows f32 and f64 alike; the maximum must be subtracted first.
  ref::Arr x = random_arr({4, 6}, 995, 1005, 63);
  for (int64_t axis : {0, 1}) {
    check_op([axis](const std::vector<Tensor>& in) { return softmax(in[0], axis); },
             [axis](const std::vector<ref::Arr>& in) { return ref::softmax(in[0], axis); }, {x}, device());
    check_op([axis](const std::vector<Tensor>& in) { return log_softmax(in[0], axis); },
             [axis](const std::vector<ref::Arr>& in) { return ref::log_softmax(in[0], axis); }, {x}, device());
  }
  std::vector<int64_t> labels = {0, 5, 2, 3};
  Device d = device();
  check_op([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels_tensor(labels, d), 0.1f); },
           [&](const std::vector<ref::Arr>& in) { return ref_loss(in[0], labels, 0.1); }, {x}, d);
  // Negative extremes too.
  Tensor y = softmax(from_ref(random_arr({3, 4}, -1005, -995, 64), d));
  for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST_P(LossTest, NonContiguousInput) {
  ref::Arr stored = random_arr({4, 3}, -2, 2, 65);
  Tensor x = from_ref(stored, device()).transpose(0, 1);
  expect_close(ref::softmax(ref::permute(stored, {1, 0}), 1), softmax(x, 1));
  expect_close(ref::log_softmax(ref::permute(stored, {1, 0}), 0), log_softmax(x, 0));
}

TEST_P(LossTest, CrossEntropyMatchesReference) {
  struct Case {
    Shape shape;
    std::vector<int64_t> labels;
  };
  const std::vector<Case> cases = {{{4, 3}, {0, 2, 1, 2}}, {{7, 10}, {9, 0, 3, 3, 5, 1, 8}}, {{2, 1}, {0, 0}}};
  Device d = device();
  for (const Case& c : cases)
    for (float smoothing : {0.f, 0.1f, 0.5f}) {
      SCOPED_TRACE(shape_str(c.shape) + " smoothing " + std::to_string(smoothing));
      check_op([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels_tensor(c.labels, d), smoothing); },
               [&](const std::vector<ref::Arr>& in) { return ref_loss(in[0], c.labels, smoothing); },
               {random_arr(c.shape, -3, 3, 66)}, d);
    }
}

TEST_P(LossTest, CrossEntropyGradientIsSoftmaxMinusTargetOverN) {
  ref::Arr x = random_arr({3, 4}, -2, 2, 67);
  std::vector<int64_t> labels = {1, 3, 0};
  const double eps = 0.2;
  Tensor logits = from_ref(x, device()).requires_grad_();
  Tensor loss = cross_entropy(logits, labels_tensor(labels, device()), static_cast<float>(eps));
  EXPECT_EQ(loss.shape(), Shape{});
  loss.backward();
  ref::Arr p = ref::softmax(x, 1), want = ref::make({3, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k = 0; k < 4; ++k)
      ref::at(want, {i, k}) = (ref::at(p, {i, k}) - (k == labels[i] ? 1 - eps : 0.0) - eps / 4) / 3;
  expect_close(want, logits.grad());
}

TEST_P(LossTest, CrossEntropyErrors) {
  Device d = device();
  Tensor logits = Tensor::zeros({3, 5}, DType::f32, d);
  try {
    cross_entropy(logits, Tensor::from_vector(std::vector<int32_t>{0, 4, 5}, {3}, d));
    ADD_FAILURE() << "label 5 of 5 classes accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels[2] = 5"), std::string::npos) << e.what();
  }
  try {
    cross_entropy(logits, Tensor::from_vector(std::vector<int32_t>{0, -1, 1}, {3}, d));
    ADD_FAILURE() << "label -1 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels[1] = -1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({3}, DType::f32, d)), Error);               // f32 labels
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({4}, DType::i32, d)), Error);               // count
  EXPECT_THROW(cross_entropy(Tensor::zeros({3}, DType::f32, d), Tensor::zeros({3}, DType::i32, d)), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({3}, DType::i32, d), 1.5f), Error);         // smoothing
  EXPECT_THROW(softmax(logits, 2), Error);
}

LOWBIT_INSTANTIATE_DEVICES(LossTest);

}  // namespace
}  // namespace lowbit::test
