// Export of multi-bit models (tools/deploy: quantize + multibit_conv2d/linear ops) against the
// training graph, for EWGS, DAQ, LSQ, SAT, DoReFa and PACT at W2A2 and W4A4 on lenet5 and AQE
// (MINW-Net's sign / ternary / power-of-two weights × 1-3-bit inputs) on minw_d, also with every
// weight and every input but the image quantized (the last FC's too), after a few training steps
// on random data:
//   - per layer: the quantize op's codes times its step are the input quantizer's eval levels,
//     and quantize + the multi-bit op on the layer's input give the layer's eval output within
//     float summation error (the integer sums are exact, the training graph sums floats);
//   - end to end: the deployed logits equal the eval-mode logits within rounding and the
//     predictions agree (an input level can flip where a float sum lands on a rounding threshold,
//     so agreement is counted, not demanded on every example);
//   - every multi-bit path (bit-serial, int8, shift where the weights allow it) gives the same
//     logits bit for bit.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "core/error.h"
#include "core/ops/multibit.h"
#include "layers/sequential.h"
#include "quant/qlayer.h"
#include "tests/deploy_fixtures.h"
#include "tests/test_util.h"
#include "tools/deploy/act_quant.h"
#include "tools/deploy/runtime.h"

namespace lowbit {
namespace {

int64_t count_ops(const deploy::Graph& g, deploy::OpKind kind) {
  int64_t n = 0;
  for (const deploy::Op& op : g.ops) n += op.kind == kind;
  return n;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.f;
  for (float x : v) m = std::max(m, std::abs(x));
  return m;
}

// Walks the model's layers on x; at each layer with a quantized input compares the deployed ops
// with the layer. Returns how many layers it compared.
int check_layers(Sequential& seq, const deploy::Graph& g, const Tensor& x, const std::string& what) {
  deploy::Runtime rt(g);
  NoGradGuard no_grad;
  Tensor h = x;
  int checked = 0;
  for (const auto& [name, child] : seq.children()) {
    auto* q = dynamic_cast<QuantizedLayer*>(child.get());
    if (q && q->input_quantizer()) {
      const int64_t qi = test::op_index(g, name + ".input"), mi = test::op_index(g, name);
      EXPECT_GE(qi, 0) << what << ": no quantize op for " << name;
      EXPECT_EQ(mi, qi + 1) << what << ": the multi-bit op of " << name << " must follow its quantize op";
      if (qi < 0 || mi != qi + 1) return checked;
      const deploy::Op& op = g.ops[static_cast<size_t>(mi)];
      // The codes are the input quantizer's levels.
      const Tensor codes = rt.run_op(static_cast<size_t>(qi), h);
      const float step = deploy::quantize_step(g.ops[static_cast<size_t>(qi)]);
      const std::vector<float> levels = q->input_quantizer()->forward(h).to_vector();
      const std::vector<float> decoded =
          multibit_decode(codes.reshape({1, -1}), op.input_format, Tensor::full({1}, step)).to_vector();
      for (size_t i = 0; i < levels.size(); ++i)
        if (std::abs(decoded[i] - levels[i]) > 1e-6f * (1.f + std::abs(levels[i]))) {
          ADD_FAILURE() << what << ": " << name << " input level " << i << " decodes to " << decoded[i]
                        << ", the quantizer gives " << levels[i];
          return checked;
        }
      EXPECT_GE(std::set<float>(levels.begin(), levels.end()).size(), 2u)
          << what << ": " << name << "'s input quantizer gives one level only (a test that cannot fail)";
      // The layer's output.
      const std::vector<float> want = (*child)(h).to_vector();
      const std::vector<float> got = rt.run_op(static_cast<size_t>(mi), codes).to_vector();
      const float tol = 2e-5f * std::max(max_abs(want), 1e-3f);
      for (size_t i = 0; i < want.size(); ++i)
        if (std::abs(got[i] - want[i]) > tol) {
          ADD_FAILURE() << what << ": " << name << " output " << i << " deployed " << got[i] << ", layer "
                        << want[i] << " (tolerance " << tol << ")";
          return checked;
        }
      ++checked;
    }
    h = (*child)(h);
  }
  return checked;
}

struct Agreement {
  int64_t examples = 0, same = 0, close = 0;
};

// Deployed vs eval-mode logits on 256 random images.
Agreement compare_logits(Module& model, const deploy::Graph& g, int64_t side, MultibitOptions opt = {}) {
  Generator gen(99);
  Tensor x = Tensor::randn({256, side, side, 1}, Device::cpu(), &gen);
  NoGradGuard no_grad;
  const std::vector<float> want = model(x).to_vector();
  const std::vector<float> got = deploy::Runtime(g, Device::cpu(), {}, opt).forward(x).to_vector();
  const size_t classes = 10;
  Agreement a;
  for (size_t r = 0; r < want.size() / classes; ++r) {
    size_t pw = 0, pg = 0;
    bool close = true;
    for (size_t c = 0; c < classes; ++c) {
      const size_t i = r * classes + c;
      close = close && std::abs(got[i] - want[i]) <= 1e-4f * (1.f + std::abs(want[i]));
      if (want[i] > want[r * classes + pw]) pw = c;
      if (got[i] > got[r * classes + pg]) pg = c;
    }
    ++a.examples;
    a.same += pw == pg;
    a.close += close;
  }
  return a;
}

void check_model(const std::string& model, int64_t side, const QuantSpec& spec, const std::string& what,
                 int expect_layers) {
  test::DeployNet n = test::build_deploy_net(model, side, spec);
  if (spec.method == "aqe") test::spread_quantized_weights(*n.model, 17);
  test::train_deploy_net(*n.model, side, 3, 5);
  deploy::Graph g = deploy::export_model(*n.model, n.info);
  EXPECT_EQ(count_ops(g, deploy::OpKind::quantize), expect_layers) << what;
  EXPECT_EQ(count_ops(g, deploy::OpKind::multibit_conv2d) + count_ops(g, deploy::OpKind::multibit_linear),
            expect_layers)
      << what;
  Generator gen(7);
  auto* seq = dynamic_cast<Sequential*>(n.model.get());
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(check_layers(*seq, g, Tensor::randn({32, side, side, 1}, Device::cpu(), &gen), what), expect_layers)
      << what;
  const Agreement a = compare_logits(*n.model, g, side);
  // At most one example in 256 may see an input level flip (none did when this was written).
  EXPECT_GE(a.same, a.examples - 1) << what << ": predictions agree on " << a.same << " of " << a.examples;
  EXPECT_GE(a.close, a.examples - 1) << what << ": logits within rounding on " << a.close << " of " << a.examples;
}

TEST(DeployMultibit, UniformQuantizersMatchTheTrainingGraph) {
  const std::map<std::string, double> scale = {{kOutputScaleOption, 1.0}}, none;
  struct Case {
    const char* method;
    bool output_scale;
  };
  for (const Case& c : {Case{"ewgs", true}, Case{"daq", true}, Case{"lsq", false}, Case{"sat", false},
                        Case{"dorefa", true}, Case{"pact", true}})
    for (int bits : {2, 4}) {
      const std::string what = std::string(c.method) + " W" + std::to_string(bits) + "A" + std::to_string(bits);
      check_model("lenet5", 12, {c.method, bits, bits, c.output_scale ? scale : none}, what, 3);
    }
}

TEST(DeployMultibit, AqeMinwMatchesTheTrainingGraph) {
  for (int wb : {1, 2, 3})
    for (int ab : {1, 2, 3}) {
      const std::string what = "aqe W" + std::to_string(wb) + "A" + std::to_string(ab);
      check_model("minw_d", 8, {"aqe", wb, ab, {}}, what, 7);  // conv1-5, fc6, fc7
    }
  // Every weight quantized (MINW-Net): the first and last layers take float inputs and run in float
  // with their quantized weights.
  check_model("minw_d", 8, {"aqe", 2, 2, {}, 2}, "aqe W2A2, first/last weights at 2 bits", 7);
  // MINW-Net as its Algorithm 1 (spec §5.3): the last FC's input quantized too (at a-bits, or at its
  // own width), so fc8 becomes a quantize + multi-bit layer as well; conv0 keeps its float image input.
  struct Last {
    int w, a, last_in;
  };
  for (const Last& c : {Last{2, 2, 2}, Last{2, 2, 1}, Last{1, 1, 1}, Last{3, 2, 3}}) {
    QuantSpec spec{"aqe", c.w, c.a, {}, c.w};
    spec.last_input_bits = c.last_in;
    const std::string what = "aqe W" + std::to_string(c.w) + "A" + std::to_string(c.a) +
                             ", first/last weights at w-bits, last input " + std::to_string(c.last_in) + " bits";
    check_model("minw_d", 8, spec, what, 8);  // conv1-5, fc6, fc7, fc8
  }
  // A quantized input with float weights has no integer path, on the last layer as on any other:
  // the exporter refuses it naming the layer.
  QuantSpec float_last{"aqe", 3, 1, {}, 32};
  float_last.last_input_bits = 1;
  test::DeployNet n = test::build_deploy_net("minw_d", 8, float_last);
  try {
    deploy::export_model(*n.model, n.info);
    ADD_FAILURE() << "a last layer with a quantized input and float weights was exported";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("layer 'fc8' has a 1-bit input but float weights"));
  }
}

TEST(DeployMultibit, WeightFormatsFollowTheQuantizer) {
  struct Case {
    QuantSpec spec;
    const char* model;
    int64_t side;
    CodeFormat weights, inputs;
  };
  // The layer's weights spread over [−1, 1] (as AQE's clipped weights end up), so that every
  // level of the quantizer occurs: then the format is the quantizer's own.
  const Case cases[] = {
      {{"ewgs", 2, 2, {}}, "lenet5", 12, CodeFormat::signed_bits(3), CodeFormat::unsigned_bits(2)},  // ±1/3, ±1
      {{"dorefa", 4, 4, {}}, "lenet5", 12, CodeFormat::signed_bits(5), CodeFormat::unsigned_bits(4)},  // odd /15
      {{"sat", 2, 2, {}}, "lenet5", 12, CodeFormat::signed_bits(3), CodeFormat::unsigned_bits(2)},  // centered: odd /4
      {{"aqe", 1, 1, {}}, "minw_d", 8, CodeFormat::binary(), CodeFormat::binary()},
      {{"aqe", 2, 2, {}}, "minw_d", 8, CodeFormat::ternary(), CodeFormat::ternary()},
      {{"aqe", 3, 3, {}}, "minw_d", 8, CodeFormat::pow2(3), CodeFormat::pow2(3)},
  };
  for (const Case& c : cases) {
    test::DeployNet n = test::build_deploy_net(c.model, c.side, c.spec);
    const std::string layer = c.model == std::string("lenet5") ? "conv2" : "conv1";
    for (auto& [name, p] : n.model->named_parameters())
      if (name == layer + ".weight") {
        NoGradGuard no_grad;
        std::vector<float> v(static_cast<size_t>(p.numel()));
        for (size_t i = 0; i < v.size(); ++i) v[i] = -1.f + 2.f * static_cast<float>(i % 97) / 96.f;
        p.copy_(Tensor::from_vector(v, p.shape()));
      }
    n.model->eval();
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    const deploy::Op& op = g.ops[static_cast<size_t>(test::op_index(g, layer))];
    EXPECT_EQ(code_format_str(op.weight_format), code_format_str(c.weights)) << c.spec.str();
    EXPECT_EQ(code_format_str(op.input_format), code_format_str(c.inputs)) << c.spec.str();
  }
}

TEST(DeployMultibit, EveryPathGivesTheSameLogits) {
  struct Case {
    QuantSpec spec;
    const char* model;
    int64_t side;
    bool shift;
  };
  for (const Case& c : {Case{{"ewgs", 2, 2, {}}, "lenet5", 12, false}, Case{{"aqe", 3, 2, {}}, "minw_d", 8, true},
                        // MINW-Net as Algorithm 1: first/last weights at 3 bits, the last FC's input at 2.
                        Case{{"aqe", 3, 2, {}, 3, 2}, "minw_d", 8, true}}) {
    test::DeployNet n = test::build_deploy_net(c.model, c.side, c.spec);
    test::train_deploy_net(*n.model, c.side, 2, 5);
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    Generator gen(3);
    const Tensor x = Tensor::randn({16, c.side, c.side, 1}, Device::cpu(), &gen);
    const std::vector<float> automatic = deploy::Runtime(g).forward(x).to_vector();
    std::vector<MultibitPath> paths = {MultibitPath::bitserial, MultibitPath::int8};
    if (c.shift) paths.push_back(MultibitPath::shift);
    for (MultibitPath p : paths) {
      deploy::Runtime rt(g, Device::cpu(), {}, {p, 0});
      EXPECT_EQ(rt.forward(x).to_vector(), automatic) << c.spec.str() << " on " << multibit_path_name(p);
      EXPECT_EQ(rt.multibit_path(static_cast<size_t>(test::op_index(g, "conv2"))), p);
    }
  }
}

// The runtime on each device (DeployMultibitRuntime/CUDA: the quantizers' CUDA kernels, the CUDA
// multi-bit GEMM and epilogue) gives the CPU runtime's logits: the integer sums are exact, the
// float layers differ by rounding (which can flip an input level, so agreement is counted).
class DeployMultibitRuntime : public test::DeviceTest {};

TEST_P(DeployMultibitRuntime, MatchesTheCpuRuntime) {
  struct Case {
    QuantSpec spec;
    const char* model;
    int64_t side;
  };
  for (const Case& c : {Case{{"ewgs", 2, 2, {{kOutputScaleOption, 1.0}}}, "lenet5", 12},
                        Case{{"lsq", 4, 4, {}}, "lenet5", 12}, Case{{"aqe", 3, 2, {}}, "minw_d", 8}}) {
    test::DeployNet n = test::build_deploy_net(c.model, c.side, c.spec);
    if (c.spec.method == "aqe") test::spread_quantized_weights(*n.model, 17);
    test::train_deploy_net(*n.model, c.side, 2, 5);
    deploy::Graph g = deploy::export_model(*n.model, n.info);
    Generator gen(5);
    const int64_t N = 64;
    Tensor x = Tensor::randn({N, c.side, c.side, 1}, Device::cpu(), &gen);
    const std::vector<float> want = deploy::Runtime(g).forward(x).to_vector();
    const std::vector<float> got = deploy::Runtime(g, device()).forward(x.to(device())).to_vector();
    ASSERT_EQ(got.size(), want.size()) << c.spec.str();
    int64_t close = 0;
    for (int64_t r = 0; r < N; ++r) {
      bool ok = true;
      for (int64_t k = 0; k < 10; ++k) {
        const size_t i = static_cast<size_t>(r * 10 + k);
        ok = ok && std::abs(got[i] - want[i]) <= 1e-3f * (1.f + std::abs(want[i]));
      }
      close += ok;
    }
    EXPECT_GE(close, N - 1) << c.spec.str() << " on " << device().str();
  }
}

LOWBIT_INSTANTIATE_DEVICES(DeployMultibitRuntime);

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
