// Tests for Module's state and bookkeeping (layers/module.h): buffers, state_dict names and order,
// load_state_dict round trip (in place: handles and optimizer references stay valid), refusal of
// missing/unexpected keys and shape/dtype mismatches (with nothing copied), non-strict loads,
// parameter groups by predicate, named_modules, to(device) keeping handles, zero_grad.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/ops/reduce.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "models/registry.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> keys(const StateDict& s) {
  std::vector<std::string> k;
  for (const auto& [name, t] : s) k.push_back(name);
  return k;
}

// Linear(3 -> 2) then BatchNorm1d(2), inside a named child.
std::shared_ptr<Sequential> small_net(Generator& gen) {
  auto inner = std::make_shared<Sequential>();
  inner->push_back(std::make_shared<Linear>(3, 2, true, gen));
  inner->push_back(std::make_shared<BatchNorm1d>(2));
  auto net = std::make_shared<Sequential>();
  net->push_back("body", inner);
  net->push_back("head", std::make_shared<Linear>(2, 1, false, gen));
  return net;
}

std::string load_error(Module& m, const StateDict& s) {
  try {
    m.load_state_dict(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StateDict, NamesAndOrderFollowPytorch) {
  Generator gen(0);
  auto net = small_net(gen);
  // Per module: parameters, then buffers, then children (depth-first).
  EXPECT_THAT(keys(net->state_dict()), ElementsAre("body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias",
                                                   "body.1.running_mean", "body.1.running_var", "head.weight"));
  EXPECT_THAT(keys(net->named_buffers()), ElementsAre("body.1.running_mean", "body.1.running_var"));
  EXPECT_EQ(net->num_parameters(), 3 * 2 + 2 + 2 + 2 + 2);  // buffers are not parameters
  for (const auto& [name, t] : net->state_dict()) EXPECT_FALSE(t.requires_grad()) << name;
}

TEST(StateDict, ResNet20KeysMatchTheReferenceCode) {
  Generator gen(0);
  ModelOptions o;
  o.in_channels = 3;
  auto net = make_model("resnet20", o, gen);
  std::vector<std::string> k = keys(net->state_dict());
  EXPECT_THAT(k, ::testing::Contains("conv1.weight"));
  EXPECT_THAT(k, ::testing::Contains("layer1.0.bn1.running_mean"));
  EXPECT_THAT(k, ::testing::Contains("layer3.2.conv2.weight"));
  EXPECT_THAT(k, ::testing::Contains("bn2.running_var"));
  EXPECT_THAT(k, ::testing::Contains("linear.bias"));
  // 19 convs + linear weight/bias + 20 BNs x (weight, bias, running_mean, running_var).
  EXPECT_EQ(k.size(), 19u + 2u + 20u * 4u);
}

TEST(StateDict, RoundTripRestoresValuesInPlace) {
  Generator gen(1);
  auto net = small_net(gen);
  net->forward(Tensor::rand({4, 3}, Device::cpu(), &gen));  // moves the BN running statistics
  StateDict saved;
  for (const auto& [name, t] : net->state_dict()) saved.emplace_back(name, t.clone());

  std::vector<Tensor> params = net->parameters();  // as an optimizer holds them
  {
    NoGradGuard no_grad;
    for (auto& [name, t] : net->state_dict()) Tensor(t).fill_(7.f);  // the views share storage
  }
  for (const auto& [name, t] : net->state_dict()) EXPECT_EQ(t.to_vector()[0], 7.f) << name;

  LoadResult r = net->load_state_dict(saved);
  EXPECT_TRUE(r.missing.empty());
  EXPECT_TRUE(r.unexpected.empty());
  StateDict now = net->state_dict();
  for (size_t i = 0; i < saved.size(); ++i)
    EXPECT_EQ(now[i].second.to_vector(), saved[i].second.to_vector()) << saved[i].first;
  // The handles taken before the load are still the module's, and they hold the loaded values.
  for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(params[i].unsafe_impl(), net->parameters()[i].unsafe_impl());
  EXPECT_EQ(params[0].to_vector(), saved[0].second.to_vector());
  for (const auto& [name, t] : net->named_parameters()) EXPECT_TRUE(t.requires_grad()) << name;
}

TEST(StateDict, RefusesMismatchesAndCopiesNothing) {
  Generator gen(2);
  auto net = small_net(gen);
  StateDict good;
  for (const auto& [name, t] : net->state_dict()) good.emplace_back(name, Tensor::full(t.shape(), 5.f));
  const std::vector<float> before = net->parameters()[0].to_vector();

  StateDict missing(good.begin() + 1, good.end());
  EXPECT_THAT(load_error(*net, missing), HasSubstr("missing: body.0.weight"));

  StateDict extra = good;
  extra.emplace_back("body.7.weight", Tensor::zeros({1}));
  EXPECT_THAT(load_error(*net, extra), HasSubstr("unexpected: body.7.weight"));

  StateDict wrong_shape = good;
  wrong_shape[0].second = Tensor::zeros({3, 2});
  std::string e = load_error(*net, wrong_shape);
  EXPECT_THAT(e, HasSubstr("'body.0.weight'"));
  EXPECT_THAT(e, HasSubstr("[3, 2]"));
  EXPECT_THAT(e, HasSubstr("[2, 3]"));

  StateDict wrong_dtype = good;
  wrong_dtype[1].second = Tensor::zeros({2}, DType::i32);
  e = load_error(*net, wrong_dtype);
  EXPECT_THAT(e, HasSubstr("'body.0.bias'"));
  EXPECT_THAT(e, HasSubstr("i32"));

  StateDict twice = good;
  twice.push_back(good[0]);
  EXPECT_THAT(load_error(*net, twice), HasSubstr("appears twice"));

  // Refused loads leave the module untouched (checks run before any copy).
  EXPECT_EQ(net->parameters()[0].to_vector(), before);
}

TEST(StateDict, NonStrictLoadsWhatMatches) {
  Generator gen(3);
  auto net = small_net(gen);
  StateDict partial = {{"head.weight", Tensor::full({1, 2}, 2.f)}, {"extra", Tensor::zeros({1})}};
  LoadResult r = net->load_state_dict(partial, false);
  EXPECT_THAT(r.unexpected, ElementsAre("extra"));
  EXPECT_EQ(r.missing.size(), 6u);
  EXPECT_EQ(net->state_dict().back().second.to_vector(), (std::vector<float>{2.f, 2.f}));
  // Shape mismatches are refused even when not strict.
  StateDict bad = {{"head.weight", Tensor::zeros({2, 1})}};
  EXPECT_THROW(net->load_state_dict(bad, false), Error);
}

// A module that registers what the test asks it to.
class Probe : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  using Module::register_buffer;
  using Module::register_parameter;
};

TEST(ModuleBuffers, RegistrationRules) {
  Probe m;
  m.register_parameter("w", Tensor::zeros({2}));
  Tensor b = m.register_buffer("count", Tensor::zeros({1}));
  EXPECT_FALSE(b.requires_grad());
  EXPECT_THROW(m.register_buffer("w", Tensor::zeros({1})), Error);         // name taken by a parameter
  EXPECT_THROW(m.register_parameter("count", Tensor::zeros({1})), Error);  // name taken by a buffer
  EXPECT_THROW(m.register_buffer("g", Tensor::zeros({1}).requires_grad_()), Error);
  EXPECT_THROW(m.register_buffer("u", Tensor()), Error);
  EXPECT_THAT(keys(m.state_dict()), ElementsAre("w", "count"));
  EXPECT_EQ(m.parameters().size(), 1u);
}

TEST(ModuleGroups, PredicateSelectsParameters) {
  Generator gen(4);
  auto net = small_net(gen);
  // Typical weight-decay exclusion: biases and normalization parameters.
  auto no_decay = net->named_parameters_where([](const std::string& name, const Tensor& t, const Module& owner) {
    return t.dim() == 1 || dynamic_cast<const BatchNorm*>(&owner) != nullptr || name.ends_with(".bias");
  });
  EXPECT_THAT(keys(no_decay), ElementsAre("body.0.bias", "body.1.weight", "body.1.bias"));
  auto decay = net->named_parameters_where([](const std::string&, const Tensor& t, const Module& owner) {
    return t.dim() > 1 && !dynamic_cast<const BatchNorm*>(&owner);
  });
  EXPECT_THAT(keys(decay), ElementsAre("body.0.weight", "head.weight"));

  Generator g(0);
  ModelOptions o;
  auto r20 = make_model("resnet20", o, g);
  auto bn_params = r20->named_parameters_where([](const std::string&, const Tensor&, const Module& owner) {
    return dynamic_cast<const BatchNorm*>(&owner) != nullptr;
  });
  EXPECT_EQ(bn_params.size(), 40u);  // 20 batch norms x (weight, bias)
}

TEST(ModuleTree, NamedModulesAndTrainFlag) {
  Generator gen(5);
  auto net = small_net(gen);
  std::vector<std::string> names;
  for (const auto& [name, m] : net->named_modules()) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("", "body", "body.0", "body.1", "head"));
  net->eval();
  for (const auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  for (const auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(ModuleTree, ZeroGradDropsGradients) {
  Generator gen(6);
  auto net = small_net(gen);
  sum(net->forward(Tensor::rand({4, 3}, Device::cpu(), &gen))).backward();
  for (const auto& [name, t] : net->named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
  net->zero_grad();
  for (const auto& [name, t] : net->named_parameters()) EXPECT_FALSE(t.grad().defined()) << name;
}

class ModuleDeviceTest : public test::DeviceTest {};
LOWBIT_INSTANTIATE_DEVICES(ModuleDeviceTest);

TEST_P(ModuleDeviceTest, ToMovesParametersAndBuffersKeepingHandles) {
  Generator gen(7);
  auto net = small_net(gen);
  StateDict before;
  for (const auto& [name, t] : net->state_dict()) before.emplace_back(name, t.clone());
  std::vector<Tensor> params = net->parameters();
  net->to(device());
  StateDict after = net->state_dict();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].second.device(), device()) << after[i].first;
    EXPECT_EQ(after[i].second.to_vector(), before[i].second.to_vector()) << after[i].first;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].device(), device()) << "handles taken before to() see the move";
    EXPECT_TRUE(params[i].requires_grad());
  }
  // The module runs on the device and trains its (same) parameters.
  Tensor y = net->forward(Tensor::rand({4, 3}, device(), &gen));
  sum(y).backward();
  EXPECT_TRUE(params[0].grad().defined());
  net->to(Device::cpu());
  EXPECT_EQ(params[0].device(), Device::cpu());
}

}  // namespace
}  // namespace lowbit
