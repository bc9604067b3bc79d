// Tests for Optimizer::state_dict / load_state_dict (core/optim/optimizer.h): a run interrupted
// after two steps, saved and loaded into a fresh optimizer continues bit for bit like the
// uninterrupted run (SGD with momentum, Nesterov, Adam, AdamW, with two groups and a parameter
// that has no state yet); the state's layout; and the refusal of every kind of mismatch, which
// leaves the optimizer unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/optim/adam.h"
#include "core/optim/sgd.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

struct Params {
  Tensor a, b, c;  // a, b in group "weights", c in group "quantizer"
};

Params make_params(Device device = Device::cpu()) {
  Params p{Tensor::from_vector({1.f, -2.f, 0.5f, 3.f}, {2, 2}, device), Tensor::from_vector({0.25f, -1.f}, {2}, device),
           Tensor::from_vector({0.5f}, {1}, device)};
  for (Tensor* t : {&p.a, &p.b, &p.c}) t->requires_grad_(true);
  return p;
}

Params copy_params(const Params& src) {
  Params p{src.a.detach().clone(), src.b.detach().clone(), src.c.detach().clone()};
  for (Tensor* t : {&p.a, &p.b, &p.c}) t->requires_grad_(true);
  return p;
}

using Factory = std::function<std::unique_ptr<Optimizer>(const Params&)>;

// Step `s`: deterministic gradients; c gets none before step 3, so its state starts later.
void do_step(Optimizer& opt, const Params& p, int s) {
  opt.zero_grad();
  const float k = 0.5f + 0.25f * static_cast<float>(s);
  p.a.set_grad(Tensor::from_vector({k, -1.f, 0.5f * k, 2.f - k}, {2, 2}, p.a.device()));
  p.b.set_grad(Tensor::from_vector({-k, 0.75f}, {2}, p.b.device()));
  if (s >= 3) p.c.set_grad(Tensor::from_vector({0.1f * k}, {1}, p.c.device()));
  opt.scale_lr(1.0 / (1.0 + s));  // a schedule: the current lr is part of the state
  opt.step();
}

std::unique_ptr<Optimizer> sgd_factory(const Params& p) {
  auto opt = std::make_unique<SGD>();
  opt->add_param_group({p.a, p.b}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-2f}, "weights");
  opt->add_param_group({p.c}, {.lr = 0.05f, .momentum = 0.5f, .nesterov = true}, "quantizer");
  return opt;
}

template <typename A>
std::unique_ptr<Optimizer> adam_factory(const Params& p) {
  auto opt = std::make_unique<A>();
  opt->add_param_group({p.a, p.b}, {.lr = 0.01f, .weight_decay = 0.1f}, "weights");
  opt->add_param_group({p.c}, {.lr = 1e-5f, .beta2 = 0.99f}, "quantizer");
  return opt;
}

const std::pair<const char*, Factory> kOptimizers[] = {
    {"SGD", sgd_factory}, {"Adam", adam_factory<Adam>}, {"AdamW", adam_factory<AdamW>}};

class OptimizerStateTest : public test::DeviceTest {};

TEST_P(OptimizerStateTest, ResumedRunContinuesIdentically) {
  for (const auto& [name, factory] : kOptimizers) {
    SCOPED_TRACE(name);
    Params straight = make_params(device());
    auto opt = factory(straight);
    for (int s = 1; s <= 5; ++s) do_step(*opt, straight, s);

    Params first = make_params(device());
    auto before = factory(first);
    for (int s = 1; s <= 2; ++s) do_step(*before, first, s);
    const OptimizerState saved = before->state_dict();
    Params resumed = copy_params(first);  // the parameters a checkpoint would hold
    do_step(*before, first, 99);          // later steps do not change the saved state (it holds copies)

    auto after = factory(resumed);
    after->load_state_dict(saved);
    EXPECT_FLOAT_EQ(after->lr(0), before->base_lr(0) / 3.f);  // the lr of step 2 is restored
    for (int s = 3; s <= 5; ++s) do_step(*after, resumed, s);

    EXPECT_EQ(resumed.a.to_vector(), straight.a.to_vector());
    EXPECT_EQ(resumed.b.to_vector(), straight.b.to_vector());
    EXPECT_EQ(resumed.c.to_vector(), straight.c.to_vector());
  }
}

LOWBIT_INSTANTIATE_DEVICES(OptimizerStateTest);

TEST(OptimizerStateLayout, TensorsAndMetadata) {
  Params p = make_params();
  auto sgd = sgd_factory(p);
  do_step(*sgd, p, 1);
  const OptimizerState s = sgd->state_dict();
  // Only parameters updated so far have buffers; c (index 2) has none yet.
  ASSERT_EQ(s.tensors.size(), 2u);
  EXPECT_EQ(s.tensors.at("state.0.momentum_buffer").shape(), (Shape{2, 2}));
  EXPECT_EQ(s.tensors.at("state.1.momentum_buffer").shape(), (Shape{2}));
  const nlohmann::json meta = nlohmann::json::parse(s.meta);
  EXPECT_EQ(meta["type"], "SGD");
  EXPECT_EQ(meta["steps"], (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(meta["groups"][0]["name"], "weights");
  EXPECT_EQ(meta["groups"][1]["nesterov"], 1.0);
  EXPECT_EQ(meta["groups"][0]["shapes"][0], (Shape{2, 2}));
  EXPECT_FLOAT_EQ(meta["groups"][0]["momentum"].get<float>(), 0.9f);

  Params q = make_params();
  auto adam = adam_factory<AdamW>(q);
  do_step(*adam, q, 3);
  const OptimizerState t = adam->state_dict();
  EXPECT_EQ(t.tensors.size(), 6u);
  EXPECT_TRUE(t.tensors.count("state.2.exp_avg_sq"));
  EXPECT_EQ(nlohmann::json::parse(t.meta)["type"], "AdamW");
}

// Loads `state` into a fresh SGD over fresh parameters and returns the error message.
std::string load_error(const OptimizerState& state, const Factory& factory = sgd_factory) {
  Params p = make_params();
  auto opt = factory(p);
  try {
    opt->load_state_dict(state);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OptimizerStateLayout, RefusesMismatches) {
  Params p = make_params();
  auto sgd = sgd_factory(p);
  do_step(*sgd, p, 1);
  const OptimizerState good = sgd->state_dict();
  EXPECT_EQ(load_error(good), "");

  auto edit_meta = [&](const std::function<void(nlohmann::json&)>& edit) {
    OptimizerState s = good;
    nlohmann::json meta = nlohmann::json::parse(s.meta);
    edit(meta);
    s.meta = meta.dump();
    return s;
  };

  EXPECT_THAT(load_error(good, adam_factory<Adam>), HasSubstr("the state is of a SGD optimizer, this is Adam"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"].erase(1); })),
              HasSubstr("the state has 1 parameter group(s), the optimizer 2"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"][1]["name"] = "bn"; })),
              HasSubstr("group 1 is named 'bn' in the state, 'quantizer' in the optimizer"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) {
                m["groups"][0]["shapes"][0] = Shape{3, 2};
              })),
              HasSubstr("parameter 0 of group 'weights' has shape [3, 2] in the state, [2, 2] in the optimizer"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"][0]["momentum"] = 0.5; })),
              HasSubstr("group 'weights' has momentum 0.5 in the state, 0.9"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"][0]["base_lr"] = 1.0; })),
              HasSubstr("group 'weights' has base_lr 1 in the state"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"][1].erase("nesterov"); })),
              HasSubstr("group 'quantizer' has no 'nesterov' in the state"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["steps"].push_back(0); })),
              HasSubstr("step counts for 4 parameters, the optimizer has 3"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["steps"][2] = 1; })),
              HasSubstr("tensor 'state.2.momentum_buffer' (momentum_buffer of parameter 0 of group 'quantizer') is "
                        "missing"));
  EXPECT_THAT(load_error(edit_meta([](auto& m) { m["groups"][0]["lr"] = "fast"; })),
              HasSubstr("malformed state metadata"));
  {
    OptimizerState s = good;
    s.meta = "{not json";
    EXPECT_THAT(load_error(s), HasSubstr("not valid JSON"));
  }
  {
    OptimizerState s = good;
    s.tensors["state.2.exp_avg"] = Tensor::zeros({1});
    EXPECT_THAT(load_error(s), HasSubstr("unexpected tensor 'state.2.exp_avg'"));
  }
  {
    OptimizerState s = good;
    s.tensors["state.1.momentum_buffer"] = Tensor::zeros({3});
    EXPECT_THAT(load_error(s), HasSubstr("tensor 'state.1.momentum_buffer' is f32 [3], expected f32 [2]"));
  }

  // A refused load changes nothing: the optimizer steps as if it never happened.
  Params q = make_params(), r = make_params();
  auto touched = sgd_factory(q), untouched = sgd_factory(r);
  do_step(*touched, q, 1);
  do_step(*untouched, r, 1);
  OptimizerState bad = good;
  bad.tensors["state.1.momentum_buffer"] = Tensor::zeros({3});
  touched->scale_lr(1.0);
  untouched->scale_lr(1.0);
  EXPECT_THROW(touched->load_state_dict(bad), Error);
  do_step(*touched, q, 2);
  do_step(*untouched, r, 2);
  EXPECT_EQ(q.a.to_vector(), r.a.to_vector());
  EXPECT_EQ(touched->lr(0), untouched->lr(0));
}

}  // namespace
}  // namespace lowbit
