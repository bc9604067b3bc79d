// Tests for core/optim/adam.h: three steps of Adam and AdamW against a float64 transcription of
// torch.optim.Adam/AdamW, a literal first step showing L2 vs decoupled weight decay, two groups
// with their own settings, per-parameter step counts when a parameter misses a gradient, and the
// refusal of bad settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/optim/adam.h"
#include "tests/optim_util.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using test::expect_near_ref;
using test::grad_tensor;
using test::param;
using ::testing::HasSubstr;

// The float64 oracle: torch.optim.Adam (decoupled = false) / AdamW (decoupled = true).
std::vector<double> adam_reference(std::vector<double> p, const std::vector<std::vector<double>>& grads,
                                   const AdamOptions& o, bool decoupled) {
  const double lr = o.lr, b1 = o.beta1, b2 = o.beta2, eps = o.eps, wd = o.weight_decay;
  std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0);
  int t = 0;
  for (const auto& grad : grads) {
    ++t;
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (decoupled) {
        p[i] *= 1.0 - lr * wd;
      } else {
        g += wd * p[i];
      }
      m[i] = b1 * m[i] + (1.0 - b1) * g;
      v[i] = b2 * v[i] + (1.0 - b2) * g * g;
      const double m_hat = m[i] / (1.0 - std::pow(b1, t));
      const double v_hat = v[i] / (1.0 - std::pow(b2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
  return p;
}

std::vector<float> run(Optimizer& opt, Tensor p, const std::vector<std::vector<double>>& grads) {
  for (const auto& g : grads) {
    opt.zero_grad();
    p.set_grad(grad_tensor(g, p.device()));
    opt.step();
  }
  return p.to_vector();
}

const std::vector<float> kP0 = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f};
const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 0.25, 2.0, 1e-3}, {-0.75, 0.5, 1.5, -1.0, -2e-3}, {0.125, 0.25, -0.5, 0.75, 0.0}};

struct AdamCase {
  const char* name;
  AdamOptions options;
};

const AdamCase kCases[] = {
    {"defaults", {}},
    {"lr 0.1", {.lr = 0.1f}},
    {"weight decay", {.lr = 0.05f, .weight_decay = 0.1f}},
    {"betas and eps", {.lr = 0.02f, .beta1 = 0.5f, .beta2 = 0.9f, .eps = 1e-3f}},
    {"beta1 0", {.lr = 0.02f, .beta1 = 0.f, .beta2 = 0.99f, .weight_decay = 0.01f}},
    {"EWGS weights", {.lr = 1e-3f, .weight_decay = 1e-4f}},
};

class AdamTest : public test::DeviceTest {};

TEST_P(AdamTest, ThreeStepsMatchFloat64Reference) {
  for (const AdamCase& c : kCases) {
    Tensor p = param(kP0, device());
    Adam adam({p}, c.options);
    expect_near_ref(run(adam, p, kGrads), adam_reference({kP0.begin(), kP0.end()}, kGrads, c.options, false),
                    std::string("Adam ") + c.name);
  }
}

TEST_P(AdamTest, AdamWThreeStepsMatchFloat64Reference) {
  for (const AdamCase& c : kCases) {
    Tensor p = param(kP0, device());
    AdamW adamw({p}, c.options);
    expect_near_ref(run(adamw, p, kGrads), adam_reference({kP0.begin(), kP0.end()}, kGrads, c.options, true),
                    std::string("AdamW ") + c.name);
  }
}

// Weights with Adam and quantizer parameters with Adam at lr 1e-5 and no weight decay, in one
// optimizer (EWGS's setting), stepped together.
TEST_P(AdamTest, TwoGroupsUseTheirOwnSettings) {
  const AdamOptions ow{.lr = 1e-2f, .weight_decay = 1e-2f};
  const AdamOptions oq{.lr = 1e-5f, .beta2 = 0.99f};
  const std::vector<float> q0 = {0.5f, 2.0f};
  const std::vector<std::vector<double>> q_grads = {{1.0, -3.0}, {-0.5, 0.25}, {0.75, -1.0}};
  Tensor w = param(kP0, device()), q = param(q0, device());
  Adam adam;
  adam.add_param_group({w}, ow, "weights");
  adam.add_param_group({q}, oq, "quantizer");
  for (size_t s = 0; s < kGrads.size(); ++s) {
    adam.zero_grad();
    w.set_grad(grad_tensor(kGrads[s], device()));
    q.set_grad(grad_tensor(q_grads[s], device()));
    adam.step();
  }
  expect_near_ref(w.to_vector(), adam_reference({kP0.begin(), kP0.end()}, kGrads, ow, false), "weights");
  expect_near_ref(q.to_vector(), adam_reference({q0.begin(), q0.end()}, q_grads, oq, false), "quantizer");
}

LOWBIT_INSTANTIATE_DEVICES(AdamTest);

// The first step moves by lr * m_hat / (sqrt(v_hat) + eps) = lr * g / (|g| + eps).
// p = 1, grad 2, lr 0.1, weight decay 0.5:
//   Adam:  g = 2 + 0.5 * 1 = 2.5, p = 1 - 0.1 * 2.5 / (2.5 + 1e-8)           = 0.9 (+4e-10)
//   AdamW: p = 1 * (1 - 0.1 * 0.5) = 0.95, then p = 0.95 - 0.1 * 2 / (2 + 1e-8) = 0.85
TEST(Adam, DecayIsL2ForAdamAndDecoupledForAdamW) {
  const AdamOptions o{.lr = 0.1f, .weight_decay = 0.5f};
  const std::vector<std::vector<double>> one_step = {{2.0}};
  Adam adam({param({1.f})}, o);
  AdamW adamw({param({1.f})}, o);
  EXPECT_NEAR(run(adam, adam.params()[0], one_step)[0], 0.9, 1e-7);
  EXPECT_NEAR(run(adamw, adamw.params()[0], one_step)[0], 0.85, 1e-7);
  EXPECT_STREQ(adam.type(), "Adam");
  EXPECT_STREQ(adamw.type(), "AdamW");

  // Without weight decay both are the same optimizer, bit for bit.
  Tensor a = param(kP0), b = param(kP0);
  Adam adam0({a}, {.lr = 0.1f});
  AdamW adamw0({b}, {.lr = 0.1f});
  EXPECT_EQ(run(adam0, a, kGrads), run(adamw0, b, kGrads));
}

// A parameter without a gradient is skipped and its step count does not advance: its first
// update uses the bias corrections of step 1.
TEST(Adam, SkipsParametersWithoutGradient) {
  const AdamOptions o{.lr = 0.1f, .weight_decay = 0.1f};
  Tensor a = param({1.f, 2.f}), b = param({3.f});
  Adam adam({a, b}, o);
  a.set_grad(Tensor::from_vector({1.f, -1.f}, {2}));
  adam.step();
  EXPECT_EQ(b.to_vector(), (std::vector<float>{3.f}));
  adam.zero_grad();
  b.set_grad(Tensor::from_vector({0.5f}, {1}));
  adam.step();
  expect_near_ref(b.to_vector(), adam_reference({3.0}, {{0.5}}, o, false), "b after its first update");
  expect_near_ref(a.to_vector(), adam_reference({1.0, 2.0}, {{1.0, -1.0}}, o, false), "a (skipped at step 2)");
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{0.5f}));  // the gradient is not modified
}

TEST(Adam, RefusesBadSettings) {
  auto error_of = [](AdamOptions o) -> std::string {
    try {
      Adam adam({param({1.f})}, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(error_of({.lr = -1e-3f}), HasSubstr("Adam: lr must be a finite number >= 0, got -0.001"));
  EXPECT_THAT(error_of({.lr = NAN}), HasSubstr("lr"));
  EXPECT_THAT(error_of({.beta1 = 1.f}), HasSubstr("beta1 must be in [0, 1), got 1"));
  EXPECT_THAT(error_of({.beta2 = -0.1f}), HasSubstr("beta2 must be in [0, 1)"));
  EXPECT_THAT(error_of({.beta2 = NAN}), HasSubstr("beta2"));
  EXPECT_THAT(error_of({.eps = -1e-8f}), HasSubstr("eps"));
  EXPECT_THAT(error_of({.weight_decay = INFINITY}), HasSubstr("weight_decay"));
  EXPECT_THAT([] { AdamW w({Tensor::zeros({2})}, {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("AdamW: parameter 0 of group 'default' (shape [2]) does not "
                                                        "require grad")));
}

TEST(Adam, OptionsReportTheCurrentLearningRate) {
  Adam adam({param({1.f})}, {.lr = 0.01f, .beta1 = 0.8f, .weight_decay = 0.1f});
  adam.scale_lr(0.5);
  const AdamOptions o = adam.options();
  EXPECT_FLOAT_EQ(o.lr, 0.005f);
  EXPECT_FLOAT_EQ(o.beta1, 0.8f);
  EXPECT_FLOAT_EQ(o.beta2, 0.999f);
  EXPECT_FLOAT_EQ(o.weight_decay, 0.1f);
  EXPECT_THROW(adam.options(3), Error);
}

}  // namespace
}  // namespace lowbit
