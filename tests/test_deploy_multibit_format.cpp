// The multi-bit deploy ops in the .lbm file and their checks: an exported EWGS and AQE model
// saved and loaded gives the same logits bit for bit; a corrupt multi-bit op (a weight code
// outside its format, formats that do not chain, an unknown method or code format, a bad
// quantizer parameter) is refused with a message naming the op; weights on no integer grid and
// quantizers the path does not take are refused by layer name; the quantize op's codes of levels
// (power-of-two included) against a table.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/io/safetensors.h"
#include "tests/deploy_fixtures.h"
#include "tests/file_util.h"
#include "tools/deploy/act_quant.h"
#include "tools/deploy/format.h"
#include "tools/deploy/runtime.h"
#include "tools/deploy/weight_codes.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

deploy::Graph exported(const std::string& model, int64_t side, const QuantSpec& spec) {
  test::DeployNet n = test::build_deploy_net(model, side, spec);
  test::train_deploy_net(*n.model, side, 2, 5);
  return deploy::export_model(*n.model, n.info);
}

TEST(DeployMultibitFormat, LbmRoundTripGivesTheSameLogits) {
  test::TempDir dir("deploy_multibit_roundtrip");
  struct Case {
    const char* model;
    int64_t side;
    QuantSpec spec;
  };
  for (const Case& c : {Case{"lenet5", 12, {"ewgs", 2, 2, {{kOutputScaleOption, 1.0}}}},
                        Case{"minw_d", 8, {"aqe", 3, 2, {}}}, Case{"lenet5", 12, {"lsq", 4, 4, {}}}}) {
    deploy::Graph g = exported(c.model, c.side, c.spec);
    const std::string path = (dir.path() / "model.lbm").string();
    deploy::save_lbm(path, g);
    deploy::Graph back = deploy::load_lbm(path);
    ASSERT_EQ(back.ops.size(), g.ops.size());
    for (size_t i = 0; i < g.ops.size(); ++i) {
      EXPECT_EQ(back.ops[i].method, g.ops[i].method);
      EXPECT_EQ(back.ops[i].bits, g.ops[i].bits);
      EXPECT_EQ(code_format_str(back.ops[i].weight_format), code_format_str(g.ops[i].weight_format));
    }
    Generator gen(4);
    Tensor x = Tensor::randn({8, c.side, c.side, 1}, Device::cpu(), &gen);
    EXPECT_EQ(deploy::Runtime(back).forward(x).to_vector(), deploy::Runtime(g).forward(x).to_vector())
        << c.spec.str();
  }
}

TEST(DeployMultibitFormat, RefusesACorruptMultibitOp) {
  const deploy::Graph good = exported("lenet5", 12, {"ewgs", 2, 2, {}});
  const size_t q = static_cast<size_t>(test::op_index(good, "conv2.input"));
  const size_t m = static_cast<size_t>(test::op_index(good, "conv2"));
  ASSERT_EQ(good.ops[m].kind, deploy::OpKind::multibit_conv2d);
  ASSERT_EQ(code_format_str(good.ops[m].weight_format), "s3");
  auto error = [&](const std::function<void(deploy::Graph&)>& corrupt) {
    deploy::Graph g = good;
    for (deploy::Op& op : g.ops)
      for (auto& [role, t] : op.tensors) t = t.clone();
    corrupt(g);
    return test::error_of([&] { deploy::check_graph(g, "model.lbm"); });
  };
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[m].tensors["weight"].data<int8_t>()[5] = 4; }),
              HasSubstr("model.lbm: op " + std::to_string(m) + " 'conv2' (multibit_conv2d): weight code 4 at 5 is "
                        "not a s3 code"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[m].input_format = CodeFormat::unsigned_bits(3); }),
              HasSubstr("'conv2' (multibit_conv2d): takes u3 codes, its input holds u2"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[m].epilogue = XnorEpilogue::Kind::none; }),
              HasSubstr("a multi-bit layer's epilogue must be affine"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[m].tensors["scale"].data<float>()[0] = NAN; }),
              HasSubstr("scale[0] is nan"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[q].method = "bnn"; }),
              HasSubstr("'conv2.input' (quantize): unknown method 'bnn'"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[q].bits = 8; }), HasSubstr("method ewgs takes 1-7 bits, got 8"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[q].tensors.erase("u"); }), HasSubstr("tensor 'u' is missing"));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[q].tensors["u"].data<float>()[0] = -5.f; }),
              HasSubstr("its interval [l, u] = ["));
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops[q].tensors["alpha"] = Tensor::ones({1}); }),
              HasSubstr("method ewgs has no tensor role 'alpha'"));
  // Codes straight into a float layer.
  EXPECT_THAT(error([&](deploy::Graph& g) { g.ops.erase(g.ops.begin() + static_cast<int64_t>(m)); }),
              HasSubstr("takes f32 input, gets i8"));

  // In the file: an unknown code format is refused by load_lbm, naming the file and the op.
  test::TempDir dir("deploy_multibit_corrupt");
  const std::string path = (dir.path() / "model.lbm").string();
  deploy::save_lbm(path, good);
  io::SafetensorsFile f = io::load_safetensors(path);
  std::string& meta = f.metadata["lowbit-deploy"];
  const size_t at = meta.find("\"weight_format\":\"s3\"");
  ASSERT_NE(at, std::string::npos);
  meta.replace(at, 20, "\"weight_format\":\"s9\"");
  const std::string bad = (dir.path() / "bad.lbm").string();
  io::save_safetensors(bad, f.tensors, f.metadata);
  EXPECT_THAT(test::error_of([&] { deploy::load_lbm(bad); }),
              HasSubstr("bad.lbm: op " + std::to_string(m) + ": unsupported code format 's9'"));
}

TEST(DeployMultibitFormat, RefusesWhatItCannotDeployByLayer) {
  // Weights on no integer grid (an offset that is no step multiple).
  const Tensor offset = Tensor::from_vector({0.1f, 0.14142136f, 0.1f, -0.1f}, {1, 4});  // 1 : √2
  EXPECT_THAT(test::error_of([&] { deploy::weight_codes("fc1", offset, false); }),
              HasSubstr("export: layer 'fc1': the quantized weights of output channel 0 are no integer multiples"));
  // A width past the unsigned 7-bit codes.
  test::DeployNet n = test::build_deploy_net("lenet5", 12, {"ewgs", 8, 8, {}});
  EXPECT_THAT(test::error_of([&] { deploy::export_model(*n.model, n.info); }),
              HasSubstr("export: layer 'conv2' quantizes its input with 'ewgs' at 8 bits; the multi-bit deploy path "
                        "takes 1-7 bits for it"));
}

TEST(DeployMultibitFormat, WeightCodesAndStepsPerChannel) {
  // Channel 0: EWGS-like odd levels ±1/3, ±1 (step 1/3); channel 1: 0.5·{−2, −1, 0, 1} (step ½).
  const Tensor qw = Tensor::from_vector({-1.f, -1.f / 3, 1.f / 3, 1.f, -1.f, -0.5f, 0.f, 0.5f}, {2, 4});
  deploy::WeightCodes wc = deploy::weight_codes("conv2", qw, false);
  EXPECT_EQ(code_format_str(wc.format), "s3");
  EXPECT_EQ(wc.codes.to_vector(), (std::vector<float>{-3, -1, 1, 3, -2, -1, 0, 1}));
  EXPECT_NEAR(wc.step[0], 1.0 / 3, 1e-7);
  EXPECT_NEAR(wc.step[1], 0.5, 1e-7);
  // Power-of-two levels {0, ±¼, ±½, ±1}: sign + exponent codes when asked for, signed otherwise.
  const Tensor p2 = Tensor::from_vector({0.f, 0.25f, -0.5f, 1.f, -1.f, 0.25f}, {1, 6});
  deploy::WeightCodes a = deploy::weight_codes("conv1", p2, true);
  EXPECT_EQ(code_format_str(a.format), "pow2(3)");
  EXPECT_EQ(a.codes.to_vector(), (std::vector<float>{0, 1, -2, 3, -3, 1}));
  EXPECT_NEAR(a.step[0], 0.25, 1e-9);
  EXPECT_EQ(code_format_str(deploy::weight_codes("conv1", p2, false).format), "s4");
}

TEST(DeployMultibitFormat, LevelsToCodes) {
  // pow2(3) with step ¼: levels 0, ±¼, ±½, ±1 are codes 0, ±1, ±2, ±3 (values 0, ±1, ±2, ±4).
  const Tensor y = Tensor::from_vector({0.f, 0.25f, -0.25f, 0.5f, -0.5f, 1.f, -1.f}, {7});
  EXPECT_EQ(deploy::levels_to_codes(y, CodeFormat::pow2(3), 0.25f).to_vector(),
            (std::vector<float>{0, 1, -1, 2, -2, 3, -3}));
  // Unsigned levels k/3 as float computes them: codes k.
  const Tensor u = Tensor::from_vector({0.f, 1.f / 3, 2.f / 3, 1.f}, {4});
  EXPECT_EQ(deploy::levels_to_codes(u, CodeFormat::unsigned_bits(2), 1.f / 3).to_vector(),
            (std::vector<float>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
