// Tests for core/optim/param_groups.h: glob matching, make_groups / partition_params ordering,
// split_weight_decay with each exclusion rule, and a split feeding an SGD with two groups (the
// excluded parameters get no weight decay).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/optim/param_groups.h"
#include "core/optim/sgd.h"

namespace lowbit {
namespace {

using ::testing::ElementsAre;

Tensor param(const Shape& shape, float value = 1.f) {
  Tensor p = Tensor::full(shape, value);
  p.requires_grad_(true);
  return p;
}

// A small model's names: a conv, a batch norm, a quantizer step, a classifier.
NamedParams model_params() {
  return {{"conv1.weight", param({8, 3, 3, 3})},
          {"bn1.weight", param({8})},
          {"bn1.bias", param({8})},
          {"layer1.0.alpha", param({1})},
          {"layer1.0.conv.weight", param({8, 3, 3, 8})},
          {"fc.weight", param({10, 8})},
          {"fc.bias", param({10})}};
}

TEST(ParamGroups, GlobMatch) {
  EXPECT_TRUE(glob_match("fc.bias", "fc.bias"));
  EXPECT_FALSE(glob_match("fc.bias", "fc.bias2"));
  EXPECT_FALSE(glob_match("fc", "fc.bias"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*.alpha", "layer1.0.alpha"));
  EXPECT_TRUE(glob_match("*bn*", "layer2.bn1.weight"));
  EXPECT_TRUE(glob_match("layer?.*.weight", "layer3.0.conv.weight"));
  EXPECT_FALSE(glob_match("layer?.*.weight", "layer10.0.conv.weight"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_match("**x", "yx"));
}

TEST(ParamGroups, MakeGroupsKeepsOrder) {
  const NamedParams named = model_params();
  auto groups = make_groups(named, [](const std::string& name, const Tensor&) {
    return glob_match("*.alpha", name) ? std::string("quantizer") : std::string("weights");
  });
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "weights");
  EXPECT_THAT(groups[0].names,
              ElementsAre("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv.weight", "fc.weight", "fc.bias"));
  EXPECT_EQ(groups[1].name, "quantizer");
  EXPECT_THAT(groups[1].names, ElementsAre("layer1.0.alpha"));
  EXPECT_EQ(groups[1].params[0].unsafe_impl(), named[3].second.unsafe_impl());  // the same tensors

  auto [conv, rest] = partition_params(
      named, [](const std::string&, const Tensor& p) { return p.dim() == 4; }, "conv", "rest");
  EXPECT_THAT(conv.names, ElementsAre("conv1.weight", "layer1.0.conv.weight"));
  EXPECT_EQ(rest.params.size(), 5u);
  EXPECT_THROW(partition_params(
                   named, [](const std::string&, const Tensor&) { return true; }, "a", "a"),
               Error);
}

TEST(ParamGroups, SplitWeightDecay) {
  const NamedParams named = model_params();
  WeightDecaySplit d = split_weight_decay(named);  // biases and rank <= 1
  EXPECT_EQ(d.decay.name, "decay");
  EXPECT_EQ(d.no_decay.name, "no_decay");
  EXPECT_THAT(d.decay.names, ElementsAre("conv1.weight", "layer1.0.conv.weight", "fc.weight"));
  EXPECT_THAT(d.no_decay.names, ElementsAre("bn1.weight", "bn1.bias", "layer1.0.alpha", "fc.bias"));

  d = split_weight_decay(named, {.biases = true, .one_dimensional = false, .patterns = {}});
  EXPECT_THAT(d.no_decay.names, ElementsAre("bn1.bias", "fc.bias"));

  d = split_weight_decay(named, {.biases = false, .one_dimensional = false, .patterns = {"bn*", "fc.*"}});
  EXPECT_THAT(d.no_decay.names, ElementsAre("bn1.weight", "bn1.bias", "fc.weight", "fc.bias"));

  d = split_weight_decay(named, {.biases = false, .one_dimensional = false, .patterns = {}});
  EXPECT_EQ(d.decay.names.size(), named.size());
  EXPECT_TRUE(d.no_decay.names.empty());
}

TEST(ParamGroups, SplitFeedsAnOptimizer) {
  const NamedParams named = {{"fc.weight", param({2, 2}, 1.f)}, {"fc.bias", param({2}, 1.f)}};
  WeightDecaySplit d = split_weight_decay(named);
  SGD sgd;
  sgd.add_param_group(d.decay.params, {.lr = 0.1f, .weight_decay = 0.5f}, d.decay.name);
  sgd.add_param_group(d.no_decay.params, {.lr = 0.1f}, d.no_decay.name);
  for (const auto& [name, p] : named) p.set_grad(Tensor::zeros(p.shape()));
  sgd.step();  // zero gradients: only weight decay moves the decayed weights, 1 - 0.1 * 0.5
  EXPECT_EQ(named[0].second.to_vector(), std::vector<float>(4, 1.f - 0.1f * 0.5f));
  EXPECT_EQ(named[1].second.to_vector(), std::vector<float>(2, 1.f));
  EXPECT_EQ(sgd.group_index("no_decay"), 1u);
}

}  // namespace
}  // namespace lowbit
