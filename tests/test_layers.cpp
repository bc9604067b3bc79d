// Tests for layers/ (Module bookkeeping, Linear, Sequential, ReLU, Flatten) and models/ (mlp and
// the registry): forward against the float64 reference, parameter names, PyTorch's init bounds,
// seeded determinism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/reduce.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "models/mlp.h"
#include "models/registry.h"
#include "tests/reference/ops.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using test::expect_close;
using test::random_arr;
using test::to_ref;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, t] : m.named_parameters()) names.push_back(name);
  return names;
}

class LinearLayerTest : public test::DeviceTest {};
LOWBIT_INSTANTIATE_DEVICES(LinearLayerTest);

TEST_P(LinearLayerTest, ForwardMatchesReference) {
  for (bool bias : {true, false}) {
    Generator gen(3);
    Linear layer(7, 5, bias, gen, device());
    ref::Arr x = random_arr({4, 7});
    Tensor y = layer(test::from_ref(x, device()));
    ref::Arr b = bias ? to_ref(layer.bias()) : ref::Arr{};
    expect_close(ref::linear(x, to_ref(layer.weight()), b), y, test::kAccumAtol, test::kAccumRtol,
                 bias ? "with bias" : "without bias");
  }
}

TEST_P(LinearLayerTest, GradientsReachParameters) {
  Generator gen(4);
  Linear layer(3, 2, true, gen, device());
  ref::Arr x = random_arr({5, 3});
  sum(layer(test::from_ref(x, device()))).backward();
  // d(sum y)/dW[o][i] = sum_n x[n][i]; d(sum y)/db[o] = N.
  ref::Arr col = ref::sum(x, {0});
  ref::Arr want_w = ref::make({2, 3});
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 3; ++i) want_w.v[o * 3 + i] = col.v[i];
  expect_close(want_w, layer.weight().grad(), test::kAccumAtol, test::kAccumRtol, "dW");
  expect_close(ref::from({2}, {5.0, 5.0}), layer.bias().grad(), test::kAccumAtol, test::kAccumRtol, "db");
}

TEST(LinearLayer, InitWithinPytorchBounds) {
  Generator gen(0);
  Linear layer(100, 300, true, gen);
  const double bound = 1.0 / std::sqrt(100.0);  // 0.1 for weight and bias alike
  for (const Tensor& t : {layer.weight(), layer.bias()}) {
    std::vector<float> v = t.to_vector();
    double lo = 1e9, hi = -1e9, mean = 0;
    for (float e : v) {
      lo = std::min(lo, double(e));
      hi = std::max(hi, double(e));
      mean += e;
    }
    mean /= double(v.size());
    EXPECT_GE(lo, -bound);
    EXPECT_LT(hi, bound);
    EXPECT_LT(lo, -0.9 * bound) << "values should fill the interval";
    EXPECT_GT(hi, 0.9 * bound) << "values should fill the interval";
    EXPECT_NEAR(mean, 0.0, 0.2 * bound);
  }
  EXPECT_THAT(layer.weight().shape(), ElementsAre(300, 100));
  EXPECT_TRUE(layer.weight().requires_grad());
  EXPECT_TRUE(layer.bias().requires_grad());
}

TEST(LinearLayer, SeededDeterminism) {
  Generator g1(7), g2(7), g3(8);
  Linear a(6, 4, true, g1), b(6, 4, true, g2), c(6, 4, true, g3);
  EXPECT_EQ(a.weight().to_vector(), b.weight().to_vector());
  EXPECT_EQ(a.bias().to_vector(), b.bias().to_vector());
  EXPECT_NE(a.weight().to_vector(), c.weight().to_vector());
  // Weight and bias come from different draws of the generator.
  std::vector<float> w = a.weight().to_vector();
  EXPECT_NE(std::vector<float>(w.begin(), w.begin() + 4), a.bias().to_vector());
}

TEST(LinearLayer, RefusesBadShapes) {
  Generator gen(0);
  EXPECT_THROW(Linear(0, 3, true, gen), Error);
  Linear layer(4, 3, true, gen);
  try {
    layer(Tensor::zeros({2, 5}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("[2, 5]"));
  }
}

TEST(ModuleTree, MlpParameterNamesAreDotted) {
  Generator gen(0);
  std::shared_ptr<Module> net = make_mlp(6, {4, 3}, 2, gen);
  // Flatten (0), Linear (1), ReLU (2), Linear (3), ReLU (4), Linear (5).
  EXPECT_THAT(names_of(*net),
              ElementsAre("1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"));
  std::vector<Tensor> params = net->parameters();
  ASSERT_EQ(params.size(), 6u);
  EXPECT_THAT(params[0].shape(), ElementsAre(4, 6));
  EXPECT_THAT(params[5].shape(), ElementsAre(2));
  EXPECT_EQ(net->num_parameters(), 4 * 6 + 4 + 3 * 4 + 3 + 2 * 3 + 2);
  // The handles share storage with the layers' own tensors.
  auto* first = dynamic_cast<Linear*>((*std::static_pointer_cast<Sequential>(net))[1].get());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(params[0].unsafe_impl(), first->weight().unsafe_impl());
}

TEST(ModuleTree, NestedNamesAndTrainFlag) {
  Generator gen(0);
  auto inner = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{std::make_shared<Linear>(2, 2, false, gen)});
  Sequential outer({std::make_shared<ReLU>(), inner});
  EXPECT_THAT(names_of(outer), ElementsAre("1.0.weight"));
  EXPECT_TRUE(outer.is_training());
  outer.eval();
  EXPECT_FALSE(outer.is_training());
  EXPECT_FALSE(inner->is_training());
  EXPECT_FALSE(inner->children()[0].second->is_training());
  outer.train();
  EXPECT_TRUE(inner->children()[0].second->is_training());
}

// A module that registers what the test asks it to.
class Probe : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  using Module::register_module;
  using Module::register_parameter;
};

TEST(ModuleTree, RefusesBadNames) {
  Probe m;
  m.register_parameter("w", Tensor::zeros({2}));
  EXPECT_THROW(m.register_parameter("w", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.register_module("w", std::make_shared<ReLU>()), Error);
  EXPECT_THROW(m.register_parameter("a.b", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.register_parameter("", Tensor::zeros({2})), Error);
  EXPECT_THROW(m.register_module("r", nullptr), Error);
}

TEST(ModuleTree, SequentialComposesItsLayers) {
  Generator gen(5);
  auto l1 = std::make_shared<Linear>(4, 3, true, gen);
  auto l2 = std::make_shared<Linear>(3, 2, true, gen);
  Sequential net({std::make_shared<Flatten>(), l1, std::make_shared<ReLU>(), l2});
  ref::Arr x = random_arr({5, 2, 2, 1});  // NHWC images, flattened to [5, 4]
  Tensor y = net(test::from_ref(x));
  ref::Arr flat{{5, 4}, x.v};
  ref::Arr h = ref::unary(ref::linear(flat, to_ref(l1->weight()), to_ref(l1->bias())),
                          [](double v) { return v > 0 ? v : 0.0; });
  expect_close(ref::linear(h, to_ref(l2->weight()), to_ref(l2->bias())), y, test::kAccumAtol, test::kAccumRtol);
}

TEST(ModelRegistry, BuildsMlpByName) {
  EXPECT_THAT(model_names(), ::testing::Contains("mlp"));
  Generator gen(0);
  ModelOptions o;
  o.hidden = {8};
  std::shared_ptr<Module> net = make_model("mlp", o, gen);
  Tensor y = (*net)(Tensor::zeros({3, 28, 28, 1}));
  EXPECT_THAT(y.shape(), ElementsAre(3, 10));
  try {
    make_model("nonesuch", o, gen);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown model 'nonesuch'"));
    EXPECT_THAT(e.what(), HasSubstr("mlp"));
  }
}

TEST(ModelRegistry, SeedFixesTheWeights) {
  Generator g1(11), g2(11);
  auto a = make_mlp(5, {4}, 3, g1), b = make_mlp(5, {4}, 3, g2);
  auto pa = a->parameters(), pb = b->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].to_vector(), pb[i].to_vector()) << i;
}

}  // namespace
}  // namespace lowbit
