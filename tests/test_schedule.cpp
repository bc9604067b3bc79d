// Tests for core/optim/schedule.h: each schedule's factor at chosen points against its closed
// formula (cosine per epoch and per iteration, with a floor; multistep by epochs and by
// iterations at and around the milestones; exponential; linear warm-up alone and composed),
// apply_schedule on two groups, the legacy cosine_lr, and the refusal of bad arguments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/optim/schedule.h"
#include "core/optim/sgd.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

const double kPi = 3.14159265358979323846;
const double kTight = 1e-15;  // double formulas evaluated in a different order

double cosine(double t, double total) { return 0.5 * (1.0 + std::cos(kPi * t / total)); }

TEST(Schedule, Constant) {
  ConstantLR s;
  EXPECT_EQ(s.factor(0, 0, 1), 1.0);
  EXPECT_EQ(s.factor(1000, 17, 20), 1.0);
}

TEST(Schedule, CosinePerEpoch) {
  CosineLR s(400);
  EXPECT_EQ(s.factor(0, 0, 196), 1.0);
  EXPECT_NEAR(s.factor(100, 0, 196), (1.0 + std::sqrt(0.5)) / 2.0, kTight);
  EXPECT_NEAR(s.factor(200, 0, 196), 0.5, kTight);
  EXPECT_NEAR(s.factor(399, 0, 196), cosine(399, 400), kTight);
  EXPECT_EQ(s.factor(400, 0, 196), 0.0);
  EXPECT_EQ(s.factor(401, 0, 196), 0.0);
  // Constant within an epoch.
  EXPECT_EQ(s.factor(123, 0, 196), s.factor(123, 195, 196));
}

TEST(Schedule, CosinePerIterationWithFloor) {
  // 2 epochs of 4 iterations: T = 8 iterations; torch's eta_min = 0.1 * base_lr.
  CosineLR s(2, Granularity::iteration, 0.1);
  EXPECT_EQ(s.factor(0, 0, 4), 1.0);
  EXPECT_NEAR(s.factor(0, 1, 4), 0.1 + 0.9 * cosine(1, 8), kTight);
  EXPECT_NEAR(s.factor(1, 0, 4), 0.1 + 0.9 * 0.5, kTight);
  EXPECT_NEAR(s.factor(1, 2, 4), 0.1 + 0.9 * cosine(6, 8), kTight);
  EXPECT_EQ(s.factor(2, 0, 4), 0.1);
  // The same schedule read per epoch.
  CosineLR e(2, Granularity::epoch, 0.1);
  EXPECT_EQ(e.factor(1, 2, 4), e.factor(1, 0, 4));
  EXPECT_NEAR(e.factor(1, 2, 4), 0.55, kTight);
}

TEST(Schedule, CosineMatchesLegacyCosineLr) {
  CosineLR s(3, Granularity::iteration);
  for (int64_t epoch = 0; epoch < 3; ++epoch)
    for (int64_t it = 0; it < 7; ++it)
      EXPECT_NEAR(0.1 * s.factor(epoch, it, 7), cosine_lr(0.1, epoch * 7 + it, 21), 1e-16) << epoch << " " << it;
}

TEST(Schedule, MultiStepByEpochs) {
  // SAT's CIFAR-10 schedule: milestones [100, 150], gamma 0.1 (torch's MultiStepLR stepped per
  // epoch: epoch 100, 0-based, is the first at 0.1).
  MultiStepLR s({100, 150}, 0.1);
  EXPECT_EQ(s.factor(0, 0, 391), 1.0);
  EXPECT_EQ(s.factor(99, 390, 391), 1.0);
  EXPECT_EQ(s.factor(100, 0, 391), 0.1);
  EXPECT_EQ(s.factor(149, 5, 391), 0.1);
  EXPECT_EQ(s.factor(150, 0, 391), std::pow(0.1, 2.0));
  EXPECT_EQ(s.factor(199, 0, 391), std::pow(0.1, 2.0));
  EXPECT_EQ(MultiStepLR({}, 0.1).factor(10, 0, 1), 1.0);
}

TEST(Schedule, MultiStepByIterations) {
  // AQE's ResNet-110 (spec 5.5): lr / 10 at 32k and 38k iterations.
  MultiStepLR s({32000, 38000}, 0.1, Granularity::iteration);
  const int64_t ipe = 391;  // 32000 = 81 * 391 + 329, 38000 = 97 * 391 + 73
  EXPECT_EQ(s.factor(81, 328, ipe), 1.0);
  EXPECT_EQ(s.factor(81, 329, ipe), 0.1);
  EXPECT_EQ(s.factor(97, 72, ipe), 0.1);
  EXPECT_EQ(s.factor(97, 73, ipe), std::pow(0.1, 2.0));
  EXPECT_EQ(s.factor(163, 0, ipe), std::pow(0.1, 2.0));
}

TEST(Schedule, Exponential) {
  ExponentialLR s(0.95);
  EXPECT_EQ(s.factor(0, 0, 4), 1.0);
  EXPECT_NEAR(s.factor(3, 2, 4), 0.95 * 0.95 * 0.95, kTight);
  ExponentialLR it(0.95, Granularity::iteration);
  EXPECT_NEAR(it.factor(3, 1, 4), std::pow(0.95, 3.25), kTight);
  EXPECT_NEAR(it.factor(3, 0, 4), s.factor(3, 0, 4), kTight);
}

TEST(Schedule, LinearWarmup) {
  auto constant = std::make_shared<ConstantLR>();
  // 5 epochs of 10 iterations from 0: factor = global iteration / 50.
  WarmupLR w(constant, 5, 0.0);
  EXPECT_EQ(w.factor(0, 0, 10), 0.0);
  EXPECT_NEAR(w.factor(0, 1, 10), 0.02, kTight);
  EXPECT_NEAR(w.factor(2, 5, 10), 0.5, kTight);
  EXPECT_NEAR(w.factor(4, 9, 10), 0.98, kTight);
  EXPECT_EQ(w.factor(5, 0, 10), 1.0);
  EXPECT_EQ(w.factor(50, 3, 10), 1.0);
  // From 0.1, held per epoch: 0.1 + 0.9 * epoch / 5.
  WarmupLR e(constant, 5, 0.1, Granularity::epoch);
  EXPECT_NEAR(e.factor(2, 7, 10), 0.1 + 0.9 * 0.4, kTight);
  EXPECT_EQ(e.factor(0, 9, 10), 0.1);
}

TEST(Schedule, WarmupComposesWithCosine) {
  // SAT: 5-epoch warm-up onto a per-iteration cosine over 150 epochs (the cosine keeps its clock).
  auto cos = std::make_shared<CosineLR>(150, Granularity::iteration);
  WarmupLR s(cos, 5, 0.0);
  const int64_t ipe = 100;
  EXPECT_NEAR(s.factor(2, 50, ipe), (250.0 / 500.0) * cosine(250, 15000), kTight);
  EXPECT_NEAR(s.factor(10, 3, ipe), cosine(1003, 15000), kTight);
  // And onto multistep.
  WarmupLR m(std::make_shared<MultiStepLR>(std::vector<int64_t>{1}, 0.5), 2, 0.0, Granularity::epoch);
  EXPECT_NEAR(m.factor(1, 0, 4), 0.5 * 0.5, kTight);
}

TEST(Schedule, ApplyScalesEveryGroupsBaseLr) {
  Tensor a = Tensor::zeros({1}), b = Tensor::zeros({1});
  a.requires_grad_(true);
  b.requires_grad_(true);
  SGD sgd;
  sgd.add_param_group({a}, {.lr = 0.1f, .momentum = 0.9f}, "weights");
  sgd.add_param_group({b}, {.lr = 1e-4f}, "quantizer");
  CosineLR s(400);
  apply_schedule(sgd, s, 200, 0, 196);
  EXPECT_EQ(sgd.lr(0), static_cast<float>(static_cast<double>(0.1f) * s.factor(200, 0, 196)));
  EXPECT_EQ(sgd.lr(1), static_cast<float>(static_cast<double>(1e-4f) * s.factor(200, 0, 196)));
  apply_schedule(sgd, s, 0, 0, 196);  // factors apply to the base lr, not the previous lr
  EXPECT_EQ(sgd.lr(0), 0.1f);
  EXPECT_EQ(sgd.lr(1), 1e-4f);
}

TEST(Schedule, Describe) {
  EXPECT_EQ(CosineLR(400).describe(), "cosine(400 epochs, per epoch, min factor 0)");
  EXPECT_EQ(MultiStepLR({100, 150}, 0.1).describe(), "multistep(milestones [100, 150] epochs, gamma 0.1)");
  EXPECT_THAT(WarmupLR(std::make_shared<ExponentialLR>(0.9), 5, 0.0).describe(),
              HasSubstr("linear warm-up(5 epochs from 0, per iteration) then exponential(gamma 0.9"));
}

TEST(Schedule, RefusesBadArguments) {
  CosineLR s(10);
  EXPECT_THAT([&] { s.factor(0, 5, 5); }, ::testing::ThrowsMessage<Error>(HasSubstr("iteration must be in [0, 5)")));
  EXPECT_THAT([&] { s.factor(-1, 0, 5); }, ::testing::ThrowsMessage<Error>(HasSubstr("epoch must be >= 0")));
  EXPECT_THAT([&] { s.factor(0, 0, 0); }, ::testing::ThrowsMessage<Error>(HasSubstr("iters_per_epoch must be >= 1")));
  EXPECT_THROW(CosineLR(0), Error);
  EXPECT_THROW(CosineLR(10, Granularity::epoch, 1.5), Error);
  EXPECT_THAT(
      [] {
        MultiStepLR({150, 100}, 0.1);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("strictly increasing, got 150 then 100")));
  EXPECT_THROW(MultiStepLR({0}, 0.1), Error);
  EXPECT_THROW(MultiStepLR({10}, 0.0), Error);
  EXPECT_THROW(ExponentialLR(-0.5), Error);
  EXPECT_THROW(ExponentialLR(NAN), Error);
  EXPECT_THROW(WarmupLR(nullptr, 5, 0.0), Error);
  EXPECT_THROW(WarmupLR(std::make_shared<ConstantLR>(), 0, 0.0), Error);
  EXPECT_THROW(WarmupLR(std::make_shared<ConstantLR>(), 5, -0.1), Error);
}

}  // namespace
}  // namespace lowbit
