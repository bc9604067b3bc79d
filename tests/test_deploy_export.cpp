// Export of trained 1-bit models to the deploy graph (tools/deploy/export.h) and the runtime
// (runtime.h): after a few training steps on random data, the deployed graph must give the
// training graph's eval-mode logits (within float rounding of the folded batch norms) and the
// same predictions, for bnn, xnor and ste quantizers, an output scale, negative batch-norm γ
// (decreasing thresholds) and both pool orders (bnn_lenet: pool after the activation -> binary
// max-pool; minw_d: pool before the batch norm -> pooled sums); the runtime on each device
// (DeployRuntime/CUDA: the CUDA ops) gives the CPU runtime's logits; the .lbm round trip gives the
// same logits bit for bit; unsupported layers and quantizers are refused by name.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/autograd.h"
#include "core/ops/loss.h"
#include "core/optim/adam.h"
#include "layers/activation.h"
#include "layers/flatten.h"
#include "layers/pool.h"
#include "layers/sequential.h"
#include "models/registry.h"
#include "quant/qfactory.h"
#include "tests/deploy_fixtures.h"
#include "tests/file_util.h"
#include "tests/test_util.h"
#include "tools/deploy/export.h"
#include "tools/deploy/format.h"
#include "tools/deploy/runtime.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Flips the sign of every third γ of the batch norms named in `bns` (decreasing thresholds).
void negate_some_gammas(Module& model, const std::vector<std::string>& bns) {
  NoGradGuard no_grad;
  for (auto& [name, p] : model.named_parameters())
    for (const std::string& bn : bns)
      if (name == bn + ".weight") {
        std::vector<float> v = p.to_vector();
        for (size_t i = 0; i < v.size(); i += 3) v[i] = -v[i];
        p.copy_(Tensor::from_vector(v, p.shape()));
      }
}

int64_t count_ops(const deploy::Graph& g, deploy::OpKind kind) {
  int64_t n = 0;
  for (const deploy::Op& op : g.ops) n += op.kind == kind;
  return n;
}

// Deployed vs eval-mode logits on random images: same argmax everywhere, values within rounding.
void expect_same_outputs(Module& model, const deploy::Graph& graph, int64_t side, const std::string& what) {
  deploy::Runtime rt(graph);
  Generator gen(99);
  Tensor x = Tensor::randn({64, side, side, 1}, Device::cpu(), &gen);
  NoGradGuard no_grad;
  model.eval();
  std::vector<float> want = model(x).to_vector(), got = rt.forward(x).to_vector();
  ASSERT_EQ(got.size(), want.size()) << what;
  const size_t classes = 10;
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::abs(got[i] - want[i]) > 1e-4 + 1e-4 * std::abs(want[i]) && bad++ < 3)
      ADD_FAILURE() << what << ": logit " << i << " deployed " << got[i] << ", training graph " << want[i];
  EXPECT_EQ(bad, 0) << what;
  for (size_t r = 0; r < want.size() / classes; ++r) {
    size_t a = 0, b = 0;
    for (size_t c = 1; c < classes; ++c) {
      if (want[r * classes + c] > want[r * classes + a]) a = c;
      if (got[r * classes + c] > got[r * classes + b]) b = c;
    }
    EXPECT_EQ(a, b) << what << ": example " << r;
  }
}

TEST(DeployExport, BinaryLenetMatchesTheTrainingGraph) {
  struct Case {
    QuantSpec spec;
    const char* what;
  };
  const Case cases[] = {{{"bnn", 1, 1, {}}, "bnn"},
                        {{"xnor", 1, 1, {}}, "xnor"},
                        {{"ste", 1, 1, {}}, "ste"},
                        {{"bnn", 1, 1, {{"output_scale", 1.0}}}, "bnn with output scale"}};
  for (const Case& c : cases) {
    test::DeployNet n = test::build_deploy_net("bnn_lenet", 12, c.spec);
    test::train_deploy_net(*n.model, 12, 4, 5);
    negate_some_gammas(*n.model, {"bn2", "bn3", "bn4"});
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    // Binary layers with thresholds into the next one, the last one affine into the float fc5.
    EXPECT_EQ(count_ops(g, deploy::OpKind::xnor_conv2d), 2) << c.what;
    EXPECT_EQ(count_ops(g, deploy::OpKind::xnor_linear), 1) << c.what;
    EXPECT_EQ(count_ops(g, deploy::OpKind::binary_max_pool2d), 2) << c.what;
    EXPECT_EQ(count_ops(g, deploy::OpKind::int_max_pool2d), 0) << c.what;
    EXPECT_EQ(count_ops(g, deploy::OpKind::hardtanh), 1) << c.what;  // only act4, before the float fc5
    expect_same_outputs(*n.model, g, 12, c.what);
  }
}

TEST(DeployExport, PoolBeforeBatchNormPoolsTheSums) {
  // minw_d: conv -> max-pool -> BN -> HardTanh. With increasing thresholds the pool becomes a
  // binary max-pool after the threshold; with some γ < 0 it must pool the integer sums.
  for (bool negative : {false, true}) {
    test::DeployNet n = test::build_deploy_net("minw_d", 8, {"bnn", 1, 1, {}});
    test::train_deploy_net(*n.model, 8, 2, 7);
    if (negative) negate_some_gammas(*n.model, {"bn1", "bn3", "bn5"});
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    EXPECT_EQ(count_ops(g, deploy::OpKind::int_max_pool2d), negative ? 3 : 0);
    EXPECT_EQ(count_ops(g, deploy::OpKind::binary_max_pool2d), negative ? 0 : 3);
    expect_same_outputs(*n.model, g, 8, negative ? "minw_d with negative gammas" : "minw_d");
  }
}

// The runtime on each device: the graph's tensors and the images on the device, the logits equal
// to the CPU runtime's (binary layers exactly; float layers within rounding) with the same
// predictions. Covers the threshold and affine epilogues, binary max-pools (bnn_lenet) and pooled
// sums (minw_d with negative γ).
class DeployRuntime : public test::DeviceTest {};

TEST_P(DeployRuntime, MatchesTheCpuRuntime) {
  struct Case {
    const char* model;
    int64_t side;
  };
  for (const Case& c : {Case{"bnn_lenet", 12}, Case{"minw_d", 8}}) {
    test::DeployNet n = test::build_deploy_net(c.model, c.side, {"xnor", 1, 1, {}});
    test::train_deploy_net(*n.model, c.side, 2, 13);
    negate_some_gammas(*n.model, {"bn1", "bn2", "bn3"});
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    Generator gen(5);
    Tensor x = Tensor::randn({32, c.side, c.side, 1}, Device::cpu(), &gen);
    std::vector<float> want = deploy::Runtime(g).forward(x).to_vector();
    std::vector<float> got = deploy::Runtime(g, GetParam()).forward(x.to(GetParam())).to_vector();
    ASSERT_EQ(got.size(), want.size()) << c.model;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-3 + 1e-3 * std::abs(want[i])) << c.model << " logit " << i;
  }
}

LOWBIT_INSTANTIATE_DEVICES(DeployRuntime);

TEST(DeployExport, LbmRoundTripGivesTheSameLogits) {
  test::TempDir dir("deploy_roundtrip");
  test::DeployNet n = test::build_deploy_net("bnn_lenet", 12, {"xnor", 1, 1, {}});
  test::train_deploy_net(*n.model, 12, 3, 11);
  deploy::Graph g = deploy::export_model(*n.model, n.info);
  const std::string path = (dir.path() / "model.lbm").string();
  deploy::save_lbm(path, g);
  deploy::Graph back = deploy::load_lbm(path);
  ASSERT_EQ(back.ops.size(), g.ops.size());
  Generator gen(4);
  Tensor x = Tensor::randn({8, 12, 12, 1}, Device::cpu(), &gen);
  EXPECT_EQ(deploy::Runtime(back).forward(x).to_vector(), deploy::Runtime(g).forward(x).to_vector());
  EXPECT_EQ(back.model, "bnn_lenet");
  EXPECT_EQ(back.height, 12);
}

TEST(DeployExport, RefusesWhatItCannotDeployByName) {
  auto error = [](const std::string& model, const QuantSpec& spec) {
    test::DeployNet n = test::build_deploy_net(model, 12, spec);
    return test::error_of([&] { deploy::export_model(*n.model, n.info); });
  };
  EXPECT_THAT(error("bnn_lenet", {"ewgs", 8, 8, {}}),
              StartsWith("export: layer 'conv2' quantizes its input with 'ewgs' at 8 bits; the multi-bit deploy path "
                         "takes 1-7 bits for it"));
  EXPECT_THAT(error("bnn_lenet", {"bnn", 32, 1, {}}), HasSubstr("layer 'conv2' has a 1-bit input but float weights"));
  EXPECT_THAT(error("bnn_lenet", {"bnn", 32, 32, {}}), HasSubstr("has no quantized layer"));
  EXPECT_THAT(error("resnet20", {"bnn", 1, 1, {}}), HasSubstr("layer 'layer1' is a Sequential, which the deploy path"));
  // A layer type it does not know, named.
  auto seq = std::dynamic_pointer_cast<Sequential>(test::build_deploy_net("bnn_lenet", 12, {"bnn", 1, 1, {}}).model);
  ASSERT_TRUE(seq);
  seq->push_back("gap", std::make_shared<AvgPool2d>(2));
  deploy::ExportInfo info{"custom", "random", 1, 12, 12, 10, nlohmann::json::object()};
  EXPECT_THAT(test::error_of([&] { deploy::export_model(*seq, info); }), HasSubstr("layer 'gap' is a AvgPool2d"));
  // Not a Sequential at all.
  Generator g0(2);
  QuantLayerFactory f0({"bnn", 1, 1, {}});
  auto lone = f0.make_linear(4, 10, false, LayerRole::Hidden, g0, Device::cpu());
  EXPECT_THAT(test::error_of([&] { deploy::export_model(*lone, info); }),
              HasSubstr("model 'custom' is a QLinear; the deploy path takes a Sequential of layers"));
  // HardTanh that does not keep the signs, before a binary layer.
  auto bad = std::make_shared<Sequential>();
  Generator gen(1);
  QuantLayerFactory f({"bnn", 1, 1, {}});
  bad->push_back("fc1", f.make_linear(4, 6, false, LayerRole::Hidden, gen, Device::cpu()));
  bad->push_back("act1", std::make_shared<HardTanh>(0.5f, 1.f));
  bad->push_back("fc2", f.make_linear(6, 10, false, LayerRole::Hidden, gen, Device::cpu()));
  deploy::ExportInfo flat{"custom", "random", 1, 2, 2, 10, nlohmann::json::object()};
  EXPECT_THAT(test::error_of([&] {
    auto whole = std::make_shared<Sequential>();
    whole->push_back("flatten", std::make_shared<Flatten>());
    for (const auto& [name, m] : bad->children()) whole->push_back(name, m);
    deploy::export_model(*whole, flat);
  }),
              HasSubstr("HardTanh 'act1' [0.5, 1] before a binary layer changes the signs"));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
