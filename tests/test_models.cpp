// Tests for the model zoo (models/): every model builds by name for 1x28x28 and 3x32x32 inputs,
// has the expected parameter count, gives [N, classes] and passes a gradient to every parameter;
// the layer factory sees each conv/linear with its role; resnet20's block and option-A shortcut
// match the float64 reference; seeds fix the weights; bad options are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "layers/sequential.h"
#include "models/basic_block.h"
#include "models/registry.h"
#include "tests/layer_check.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ModelOptions input(int64_t c, int64_t h, int64_t w) {
  ModelOptions o;
  o.in_channels = c;
  o.in_height = h;
  o.in_width = w;
  return o;
}

// Parameter counts for 10 classes (conv k·k·in·out, no biases unless said; BN 2·C; FC in·out + out):
//  resnet20, 3x32x32: stem 3·3·3·16 = 432 + bn 32
//    layer1: 3 blocks × (2 × 3·3·16·16 + 2 × 32)                        =  14,016
//    layer2: (3·3·16·32 + 3·3·32·32 + 128) + 2 × (2 × 9,216 + 128)       =  51,072
//    layer3: (3·3·32·64 + 3·3·64·64 + 256) + 2 × (2 × 36,864 + 256)      = 203,520
//    head: BatchNorm1d(64) 128 + linear 64·10 + 10 = 650
//    total 432 + 32 + 14,016 + 51,072 + 203,520 + 128 + 650            = 269,850 (0.27 M)
//    (1 input channel: stem 144 instead of 432 → 269,562)
//  lenet5, 1x28x28: conv 5·5·1·6+6 = 156, conv 5·5·6·16+16 = 2,416, fc 400·120+120 = 48,120,
//    fc 120·84+84 = 10,164, fc 84·10+10 = 850 → 61,706; 3x32x32: conv1 456, fc1 576·120+120 → 83,126
//  lenet5_ht: lenet5 without the biases before a BN (−6 −16 −120 −84 = −226) plus BN 2·(6+16+120+84) = 452
//    → 61,932; 3x32x32 → 83,352
//  resnet18: the well-known CIFAR ResNet-18 count 11,173,962 (1 channel: −1,152)
//  vgg_small, 3x32x32: convs 4,574,592 + BN 3,584 + fc 8,192·10+10 = 4,660,106
//  bnn_lenet, 1x28x28: convs 9·32 + 9·32·64 + 9·64·64 = 55,584, fc 3,136·256 + 256·10 = 805,376, BN
//    2·(32+64+64+256+10) = 852 → 861,812; 3x32x32: conv1 864, fc4 4,096·256 → 1,108,148
//  minw_a..d, mobilenet_v2: same arithmetic (mobilenet_v2: 2,236,682 with 3 channels)
struct Expected {
  const char* name;
  int64_t params_1x28x28, params_3x32x32;
};
const Expected kZoo[] = {
    {"mlp", 784 * 256 + 256 + 256 * 10 + 10, 3072 * 256 + 256 + 256 * 10 + 10},
    {"lenet5", 61706, 83126},
    {"lenet5_ht", 61932, 83352},
    {"resnet20", 269562, 269850},
    {"resnet18", 11172810, 11173962},
    {"vgg_small", 4621962, 4660106},
    {"minw_a", 10357396, 14029716},
    {"minw_b", 4567380, 6403540},
    {"minw_c", 2594132, 3512788},
    {"minw_d", 1804116, 2264020},
    {"bnn_lenet", 861812, 1108148},
    {"mobilenet_v2", 2236106, 2236682},
};

TEST(ModelZoo, EveryRegisteredModelIsTested) {
  std::vector<std::string> tested;
  for (const Expected& e : kZoo) tested.push_back(e.name);
  EXPECT_EQ(model_names(), tested);
  for (const auto& name : model_names()) EXPECT_FALSE(model_description(name).empty()) << name;
  EXPECT_THROW(model_description("nonesuch"), Error);
}

// Builds `name` for one input shape, checks the parameter count, runs one training forward of
// a small batch and one backward of a random weighting of the logits, and checks that every parameter
// received a finite, non-zero gradient.
void check_model(const Expected& e, int64_t c, int64_t hw, int64_t want_params) {
  SCOPED_TRACE(std::string(e.name) + " on " + std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw));
  Generator gen(1);
  std::shared_ptr<Module> net = make_model(e.name, input(c, hw, hw), gen);
  EXPECT_EQ(net->num_parameters(), want_params);
  // The MINW nets, lenet5_ht and bnn_lenet need a batch of 4: in a pair, batch norm gives ±0.99999 to each
  // feature, which never saturates the HardTanh, and then a BN's bias gets exactly zero gradient
  // (the next Linear + training-mode BN cancels any per-feature shift). Batches of 4 reach ±1.7.
  const int64_t n = std::string(e.name).starts_with("minw") || std::string(e.name) == "lenet5_ht" ||
                          std::string(e.name) == "bnn_lenet"
                      ? 4
                      : 2;
  Tensor x = Tensor::randn({n, hw, hw, c}, Device::cpu(), &gen);
  Tensor y = (*net)(x);
  ASSERT_THAT(y.shape(), ElementsAre(n, 10));
  sum(y * Tensor::randn({n, 10}, Device::cpu(), &gen)).backward();
  for (const auto& [name, p] : net->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " received no gradient";
    float most = 0.f;
    for (float g : p.grad().to_vector()) {
      ASSERT_TRUE(std::isfinite(g)) << name;
      most = std::max(most, std::abs(g));
    }
    EXPECT_GT(most, 0.f) << name << " has an all-zero gradient";
  }
}

class ModelBuild : public ::testing::TestWithParam<Expected> {};

TEST_P(ModelBuild, Gray28) { check_model(GetParam(), 1, 28, GetParam().params_1x28x28); }
TEST_P(ModelBuild, Color32) { check_model(GetParam(), 3, 32, GetParam().params_3x32x32); }

INSTANTIATE_TEST_SUITE_P(Zoo, ModelBuild, ::testing::ValuesIn(kZoo),
                         [](const ::testing::TestParamInfo<Expected>& info) { return std::string(info.param.name); });

TEST(ModelZoo, EvalModeUsesRunningStatistics) {
  Generator gen(2);
  auto net = make_model("resnet20", input(3, 32, 32), gen);
  net->eval();
  Tensor x = Tensor::randn({1, 32, 32, 3}, Device::cpu(), &gen);  // batch 1 works in evaluation
  std::vector<float> a = (*net)(x).to_vector(), b = (*net)(x).to_vector();
  EXPECT_EQ(a, b);
}

TEST(ModelZoo, SeedFixesEveryWeight) {
  for (const char* name : {"resnet20", "lenet5", "minw_d"}) {
    Generator g1(11), g2(11), g3(12);
    StateDict a = make_model(name, input(1, 28, 28), g1)->state_dict();
    StateDict b = make_model(name, input(1, 28, 28), g2)->state_dict();
    StateDict c = make_model(name, input(1, 28, 28), g3)->state_dict();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
    EXPECT_NE(a[0].second.to_vector(), c[0].second.to_vector()) << name;
  }
}

TEST(ModelZoo, Resnet20InitIsKaimingNormal) {
  Generator gen(3);
  auto net = make_model("resnet20", input(3, 32, 32), gen);
  for (const auto& [name, p] : net->named_parameters()) {
    if (name != "layer3.1.conv1.weight") continue;
    std::vector<float> v = p.to_vector();  // 36,864 values, fan_in 3·3·64
    double s = 0;
    for (float e : v) s += double(e) * e;
    EXPECT_NEAR(std::sqrt(s / double(v.size())) / std::sqrt(2.0 / 576), 1.0, test::kSampleStdRtol);
  }
}

TEST(ModelZoo, WidthMultiplierAndBadOptions) {
  Generator gen(4);
  ModelOptions o = input(3, 32, 32);
  o.width_mult = 0.5f;
  auto net = make_model("resnet20", o, gen);
  EXPECT_THAT(net->state_dict()[0].second.shape(), ElementsAre(8, 3, 3, 3));
  EXPECT_THAT((*net)(Tensor::zeros({2, 32, 32, 3})).shape(), ElementsAre(2, 10));
  o.width_mult = 0.f;
  EXPECT_THROW(make_model("resnet20", o, gen), Error);
  try {
    make_model("vgg_small", input(1, 7, 7), gen);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("7x7"));
  }
  ModelOptions no_classes = input(1, 28, 28);
  no_classes.num_classes = 0;
  EXPECT_THROW(make_model("lenet5", no_classes, gen), Error);
}

// ---------------------------------------------------------------- the layer factory hook

// Records the role of every layer it builds and returns a subclass of Conv2d, as a quantizer's
// factory would.
class TaggedConv : public Conv2d {
 public:
  using Conv2d::Conv2d;
};
struct RecordingFactory : LayerFactory {
  std::map<std::string, int> counts;  // "conv first", "linear last", ...
  std::shared_ptr<Conv2d> make_conv(const Conv2dOptions& o, LayerRole role, Generator& gen, Device device) override {
    ++counts[std::string("conv ") + layer_role_name(role)];
    return std::make_shared<TaggedConv>(o, gen, device);
  }
  std::shared_ptr<Linear> make_linear(int64_t in, int64_t out, bool bias, LayerRole role, Generator& gen,
                                      Device device) override {
    ++counts[std::string("linear ") + layer_role_name(role)];
    return LayerFactory::make_linear(in, out, bias, role, gen, device);
  }
};

std::map<std::string, int> roles_of(const std::string& model) {
  auto factory = std::make_shared<RecordingFactory>();
  ModelOptions o = input(3, 32, 32);
  o.layers = factory;
  o.hidden = {8, 8};
  Generator gen(0);
  auto net = make_model(model, o, gen);
  for (const auto& [name, m] : net->named_modules())
    if (dynamic_cast<Conv2d*>(m)) {
      EXPECT_NE(dynamic_cast<TaggedConv*>(m), nullptr) << name;
    }
  return factory->counts;
}

TEST(ModelFactory, EveryConvAndLinearComesThroughTheFactoryWithItsRole) {
  using M = std::map<std::string, int>;
  EXPECT_EQ(roles_of("mlp"), (M{{"linear first", 1}, {"linear hidden", 1}, {"linear last", 1}}));
  EXPECT_EQ(roles_of("lenet5"), (M{{"conv first", 1}, {"conv hidden", 1}, {"linear hidden", 2}, {"linear last", 1}}));
  EXPECT_EQ(roles_of("lenet5_ht"),
            (M{{"conv first", 1}, {"conv hidden", 1}, {"linear hidden", 2}, {"linear last", 1}}));
  EXPECT_EQ(roles_of("bnn_lenet"), (M{{"conv first", 1}, {"conv hidden", 2}, {"linear hidden", 1}, {"linear last", 1}}));
  // resnet20: the 18 block convs are the quantized ones (spec §2.6); stem and linear stay first/last.
  EXPECT_EQ(roles_of("resnet20"), (M{{"conv first", 1}, {"conv hidden", 18}, {"linear last", 1}}));
  // resnet18: 16 block convs + 3 downsample 1x1 convs.
  EXPECT_EQ(roles_of("resnet18"), (M{{"conv first", 1}, {"conv hidden", 19}, {"linear last", 1}}));
  EXPECT_EQ(roles_of("vgg_small"), (M{{"conv first", 1}, {"conv hidden", 5}, {"linear last", 1}}));
  EXPECT_EQ(roles_of("minw_c"), (M{{"conv first", 1}, {"conv hidden", 5}, {"linear hidden", 2}, {"linear last", 1}}));
  // mobilenet_v2: 17 blocks (the t = 1 block has no expand conv: 2 + 16 × 3) + the 1x1 to 1280.
  EXPECT_EQ(roles_of("mobilenet_v2"), (M{{"conv first", 1}, {"conv hidden", 51}, {"linear last", 1}}));
}

// ---------------------------------------------------------------- resnet20 pieces vs reference

ref::Arr shortcut_a_ref(const ref::Arr& x, int64_t planes) {
  ref::Arr s = ref::slice(ref::slice(x, 1, 0, x.shape[1], 2), 2, 0, x.shape[2], 2);
  return ref::pad(s, {{0, 0}, {0, 0}, {0, 0}, {planes / 4, planes / 4}}, 0.0);
}

TEST(ResNetPieces, ShortcutAMatchesReference) {
  models::ShortcutA sc(4, 8);
  for (int64_t hw : {6, 7}) {
    ref::Arr x = test::random_arr({2, hw, hw, 4});
    test::check_layer(
        sc, x, [](const std::vector<ref::Arr>& in) { return shortcut_a_ref(in[0], 8); }, Device::cpu());
  }
  EXPECT_THROW(models::ShortcutA(4, 12), Error);  // 4 + 2·3 != 12
}

TEST(ResNetPieces, BasicBlockMatchesReference) {
  constexpr double eps = 1e-5;
  auto relu_ref = [](const ref::Arr& a) { return ref::unary(a, [](double v) { return v > 0 ? v : 0.0; }); };
  Generator gen(5);
  ModelOptions o;
  models::Net net(o, gen);
  for (int64_t stride : {1, 2}) {
    SCOPED_TRACE("stride " + std::to_string(stride));
    const int64_t in = stride == 1 ? 4 : 2;
    models::BasicBlock block(net, in, 4, stride, models::BasicBlock::Shortcut::A);
    // inputs: x, conv1.weight, bn1.weight, bn1.bias, conv2.weight, bn2.weight, bn2.bias
    auto reference = [&, stride](const std::vector<ref::Arr>& p) {
      ref::Arr h =
          relu_ref(ref::batch_norm_train(ref::conv2d(p[0], p[1], {}, stride, stride, 1, 1), p[2], p[3], eps).y);
      ref::Arr o2 = ref::batch_norm_train(ref::conv2d(h, p[4], {}, 1, 1, 1, 1), p[5], p[6], eps).y;
      ref::Arr sc = stride == 1 ? p[0] : shortcut_a_ref(p[0], 4);
      return relu_ref(ref::binary(o2, sc, [](double a, double b) { return a + b; }));
    };
    test::check_layer(block, test::random_arr({2, 5, 5, in}, -1, 1, 7), reference, Device::cpu(),
                      test::accum_forward());
  }
}

}  // namespace
}  // namespace lowbit
