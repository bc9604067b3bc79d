// Quantized layers (QConv2d, QLinear) and QuantLayerFactory: which layers of resnet20 / mlp get
// quantized, forward/backward reaching weights and quantizer parameters, the forward equal to the
// float op on separately quantized tensors, first-batch initialization (once, training only, kept
// across state dicts), the output scale α, state-dict round trips, and w32/a32 = the float layer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "models/registry.h"
#include "quant/dorefa.h"
#include "quant/pact.h"
#include "quant/qconv2d.h"
#include "quant/qfactory.h"
#include "quant/qlinear.h"
#include "quant/ste.h"
#include "tests/test_util.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<QuantLayerFactory> factory(const std::string& method, int w, int a,
                                           std::map<std::string, double> options = {}, int first_last = 32) {
  return std::make_shared<QuantLayerFactory>(QuantSpec{method, w, a, std::move(options), first_last});
}

ModelOptions resnet_options(std::shared_ptr<LayerFactory> layers, Device device, float width = 0.5f) {
  ModelOptions o;
  o.in_channels = 3;
  o.in_height = o.in_width = 16;
  o.width_mult = width;
  o.layers = std::move(layers);
  o.device = device;
  return o;
}

Tensor sample(const Shape& shape, Device device, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  return test::from_ref(test::random_arr(shape, lo, hi, seed), device);
}

void expect_equal(const Tensor& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(want.shape(), got.shape()) << what;
  std::vector<float> a = want.to_vector(), b = got.to_vector();
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && reported++ < 5) ADD_FAILURE() << what << ": element " << i << " " << a[i] << " vs " << b[i];
}

QuantConfig cfg(const std::string& method, int bits, std::map<std::string, double> options = {}) {
  return {method, bits, QuantTarget::weight, std::move(options)};  // the layer sets the target
}

Conv2dOptions conv_options() { return {.in_channels = 4, .out_channels = 6, .kernel = 3, .stride = 1, .padding = 1}; }

class QLayers : public test::DeviceTest {};

// ---- which layers are quantized ----

TEST_P(QLayers, Resnet20HasEighteenQuantizedConvsAndFloatEnds) {
  Generator gen(1);
  auto net = make_model("resnet20", resnet_options(factory("dorefa", 2, 2), device()), gen);
  int qconvs = 0, convs = 0;
  for (auto& [name, m] : net->named_modules()) {
    if (dynamic_cast<Conv2d*>(m)) ++convs;
    if (auto* q = dynamic_cast<QConv2d*>(m)) {
      ++qconvs;
      ASSERT_NE(q->weight_quantizer(), nullptr) << name;
      ASSERT_NE(q->input_quantizer(), nullptr) << name;
      EXPECT_EQ(q->weight_quantizer()->bits(), 2);
      EXPECT_EQ(q->input_quantizer()->target(), QuantTarget::activation);
      EXPECT_FALSE(q->has_output_scale());
    }
    if (name == "conv1") {
      EXPECT_EQ(dynamic_cast<QConv2d*>(m), nullptr) << "the first conv stays float";
    }
    if (name == "linear") {
      EXPECT_NE(dynamic_cast<Linear*>(m), nullptr);
      EXPECT_EQ(dynamic_cast<QLinear*>(m), nullptr) << "the last linear stays float";
    }
  }
  EXPECT_EQ(convs, 19);
  EXPECT_EQ(qconvs, 18);
  auto qs = quantizers(*net);
  EXPECT_EQ(qs.size(), 36u);
  EXPECT_EQ(quantized_layers(*net).size(), 18u);
  std::set<std::string> names;
  for (auto& [name, q] : qs) names.insert(name);
  EXPECT_TRUE(names.count("layer1.0.conv1.wq"));
  EXPECT_TRUE(names.count("layer3.2.conv2.aq"));
}

TEST_P(QLayers, MlpKeepsFirstAndLastFloat) {
  ModelOptions o;
  o.hidden = {32, 16};
  o.layers = factory("ste", 2, 2);
  o.device = device();
  Generator gen(2);
  auto net = make_model("mlp", o, gen);
  std::vector<std::string> kinds;
  for (auto& [name, m] : net->named_modules())
    if (dynamic_cast<Linear*>(m)) kinds.push_back(dynamic_cast<QLinear*>(m) ? "q" : "f");
  EXPECT_EQ(kinds, (std::vector<std::string>{"f", "q", "f"}));
  Tensor y = net->forward(sample({3, 28, 28, 1}, device(), 5, 0.f, 1.f));
  EXPECT_EQ(y.shape(), (Shape{3, 10}));
}

TEST_P(QLayers, FirstLastAtEightBitsQuantizeWeightsOnly) {
  Generator gen(3);
  auto net = make_model("resnet20", resnet_options(factory("dorefa", 2, 2, {}, 8), device()), gen);
  int qconvs = 0;
  for (auto& [name, m] : net->named_modules()) {
    if (name == "conv1" || name == "linear") {
      auto* q = dynamic_cast<QuantizedLayer*>(m);
      ASSERT_NE(q, nullptr) << name;
      ASSERT_NE(q->weight_quantizer(), nullptr);
      EXPECT_EQ(q->weight_quantizer()->bits(), 8);
      EXPECT_EQ(q->input_quantizer(), nullptr) << name << ": its input stays float";
    }
    if (dynamic_cast<QConv2d*>(m)) ++qconvs;
  }
  EXPECT_EQ(qconvs, 19);
}

TEST(QLayerFactory, RefusesUnknownMethodsAndEdgeWidths) {
  try {
    QuantLayerFactory f(QuantSpec{"nope", 2, 2, {}, 32});
    ADD_FAILURE() << "unknown method accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dorefa"));
  }
  EXPECT_THROW(QuantLayerFactory(QuantSpec{"dorefa", 2, 2, {}, 9}), Error);
  EXPECT_THROW(QuantLayerFactory(QuantSpec{"dorefa", 2, 2, {}, 0}), Error);
  for (int bad : {0, 9, 16}) {
    QuantSpec s{"dorefa", 2, 2, {}, 32};
    s.last_input_bits = bad;
    try {
      QuantLayerFactory f(s);
      ADD_FAILURE() << "last_input_bits " << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("last_input_bits must be 32 (float) or 1 to 8, got " + std::to_string(bad)));
    }
  }
  // Widths are the maker's business: bnn defines only 1 bit.
  Generator gen(0);
  // first_last_bits 1..8: first/last weights at that width, their inputs float (MINW-Net: 2).
  QuantLayerFactory fl(QuantSpec{"aqe", 3, 1, {}, 2});
  for (LayerRole role : {LayerRole::First, LayerRole::Last}) {
    auto conv = fl.make_conv(conv_options(), role, gen, Device::cpu());
    auto* q = dynamic_cast<QuantizedLayer*>(conv.get());
    ASSERT_NE(q, nullptr);
    ASSERT_NE(q->weight_quantizer(), nullptr);
    EXPECT_EQ(q->weight_quantizer()->bits(), 2);
    EXPECT_EQ(q->input_quantizer(), nullptr);
  }
  QuantLayerFactory bnn(QuantSpec{"bnn", 2, 2, {}, 32});
  EXPECT_THROW(bnn.make_conv(conv_options(), LayerRole::Hidden, gen, Device::cpu()), Error);
}

// last_input_bits 1..8 (MINW-Net, spec §5.3: every input but the image quantized): the Last layer's
// input gets a quantizer at that width with the hidden inputs' method and options (less the output
// scale, which first/last layers never get); the First layer's input stays float.
TEST(QLayerFactory, LastInputBitsQuantizeTheLastLayersInputOnly) {
  Generator gen(0);
  const std::map<std::string, double> options = {{"delta", 0.01}, {kOutputScaleOption, 1}};
  QuantSpec spec{"ewgs", 3, 1, options, 2};
  spec.last_input_bits = 4;
  QuantLayerFactory f(spec);
  EXPECT_THAT(spec.str(), HasSubstr("first/last w2 last input a4"));
  auto inputs_of = [](QuantizedLayer* q) { return q->input_quantizer() ? q->input_quantizer()->bits() : 32; };
  auto last_conv = f.make_conv(conv_options(), LayerRole::Last, gen, Device::cpu());
  auto last_fc = f.make_linear(8, 3, true, LayerRole::Last, gen, Device::cpu());
  for (QuantizedLayer* q : {dynamic_cast<QuantizedLayer*>(last_conv.get()), dynamic_cast<QuantizedLayer*>(last_fc.get())}) {
    ASSERT_NE(q, nullptr);
    ASSERT_NE(q->weight_quantizer(), nullptr);
    EXPECT_EQ(q->weight_quantizer()->bits(), 2);
    ASSERT_NE(q->input_quantizer(), nullptr);
    const QuantConfig& a = q->input_quantizer()->config();
    EXPECT_EQ(a.method, "ewgs");
    EXPECT_EQ(a.bits, 4);
    EXPECT_EQ(a.target, QuantTarget::activation);
    EXPECT_EQ(a.options, (std::map<std::string, double>{{"delta", 0.01}}));
    EXPECT_FALSE(q->has_output_scale());
  }
  auto first = f.make_conv(conv_options(), LayerRole::First, gen, Device::cpu());
  auto* qf = dynamic_cast<QuantizedLayer*>(first.get());
  ASSERT_NE(qf, nullptr);
  EXPECT_EQ(inputs_of(qf), 32) << "the image input stays float";
  auto hidden = f.make_linear(8, 3, true, LayerRole::Hidden, gen, Device::cpu());
  auto* qh = dynamic_cast<QuantizedLayer*>(hidden.get());
  ASSERT_NE(qh, nullptr);
  EXPECT_EQ(inputs_of(qh), 1);
  EXPECT_TRUE(qh->has_output_scale());

  // Float first/last weights with a quantized last input: the last layer is a QLinear without a
  // weight quantizer, the first a plain float layer.
  spec.first_last_bits = 32;
  QuantLayerFactory g(spec);
  auto last = g.make_linear(8, 3, true, LayerRole::Last, gen, Device::cpu());
  auto* ql = dynamic_cast<QLinear*>(last.get());
  ASSERT_NE(ql, nullptr);
  EXPECT_EQ(ql->weight_quantizer(), nullptr);
  EXPECT_EQ(inputs_of(ql), 4);
  EXPECT_EQ(dynamic_cast<QuantizedLayer*>(g.make_conv(conv_options(), LayerRole::First, gen, Device::cpu()).get()),
            nullptr);
  // The default (32) leaves the last layer as it was: weights at first_last_bits, input float.
  QuantLayerFactory h(QuantSpec{"ewgs", 3, 1, options, 2});
  auto old_last = h.make_linear(8, 3, true, LayerRole::Last, gen, Device::cpu());
  auto* qo = dynamic_cast<QuantizedLayer*>(old_last.get());
  ASSERT_NE(qo, nullptr);
  EXPECT_EQ(inputs_of(qo), 32);
}

// ---- forward / backward ----

TEST_P(QLayers, Resnet20BackwardReachesWeightsAndQuantizerParameters) {
  Generator gen(4);
  // PACT activations (learnable clip α, started at 1 so BN+ReLU outputs reach it), DoReFa weights.
  auto net = make_model("resnet20", resnet_options(factory("pact", 2, 2, {{"alpha", 1.0}}), device()), gen);
  Tensor x = sample({4, 16, 16, 3}, device(), 7);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 3, 5, 7}, {4}, device());
  Tensor loss = cross_entropy(net->forward(x), labels);
  loss.backward();

  auto qparams = quantizer_parameters(*net);
  ASSERT_EQ(qparams.size(), 18u);  // one clip per quantized conv input
  int nonzero = 0;
  for (auto& [name, t] : qparams) {
    EXPECT_THAT(name, HasSubstr(".aq.alpha"));
    ASSERT_TRUE(t.grad().defined()) << name;
    if (t.grad().item() != 0.f) ++nonzero;
  }
  EXPECT_GT(nonzero, 0);
  auto others = non_quantizer_parameters(*net);
  EXPECT_EQ(others.size() + qparams.size(), net->named_parameters().size());
  for (auto& [name, t] : others) {
    ASSERT_TRUE(t.grad().defined()) << name;
    if (name.find("conv") != std::string::npos) {
      float s = sum(abs(t.grad())).item();
      EXPECT_GT(s, 0.f) << name;
    }
  }
}

TEST_P(QLayers, ConvForwardEqualsConvOfSeparatelyQuantizedTensors) {
  for (bool training : {true, false}) {
    Generator gen(5);
    QConv2d layer(conv_options(), cfg("dorefa", 2), cfg("dorefa", 3), gen, device());
    layer.train(training);
    Tensor x = sample({2, 5, 5, 4}, device(), 11, -0.5f, 1.5f);
    Tensor want = conv2d(dorefa_activation(x, 3), dorefa_weight(layer.weight(), 2), layer.bias(), layer.params());
    expect_equal(want, layer.forward(x), training ? "train" : "eval");
  }
}

TEST_P(QLayers, LinearForwardEqualsLinearOfSeparatelyQuantizedTensors) {
  Generator gen(6);
  QLinear layer(8, 5, true, cfg("ste", 2), cfg("pact", 2, {{"alpha", 0.75}}), gen, device());
  Tensor x = sample({3, 8}, device(), 12, -0.5f, 1.5f);
  Tensor alpha = Tensor::full({}, 0.75f, DType::f32, device());
  Tensor want = linear(pact_quantize(x, alpha, 2), ste_quantize(layer.weight(), 2, QuantTarget::weight, false),
                       layer.bias());
  expect_equal(want, layer.forward(x), "qlinear");
}

TEST_P(QLayers, FullPrecisionWidthsGiveTheFloatLayerExactly) {
  Generator g1(7), g2(7);
  Conv2d plain(conv_options(), g1, device());
  QConv2d q(conv_options(), cfg("dorefa", 32), cfg("dorefa", 32), g2, device());
  EXPECT_EQ(q.weight_quantizer(), nullptr);
  EXPECT_EQ(q.input_quantizer(), nullptr);
  EXPECT_EQ(q.named_parameters().size(), 2u);  // weight, bias
  Tensor x = sample({2, 5, 5, 4}, device(), 13);
  expect_equal(plain.forward(x), q.forward(x), "conv w32 a32");

  Generator g3(8), g4(8);
  Linear lplain(8, 5, true, g3, device());
  QLinear lq(8, 5, true, cfg("ste", 32), cfg("ste", 32), g4, device());
  Tensor xl = sample({3, 8}, device(), 14);
  expect_equal(lplain.forward(xl), lq.forward(xl), "linear w32 a32");
}

// ---- initialization, train vs eval, output scale ----

TEST_P(QLayers, InitializesOnTheFirstTrainingBatchOnly) {
  Generator gen(9);
  QConv2d layer(conv_options(), cfg("dorefa", 2, {{kOutputScaleOption, 1}}), cfg("dorefa", 2), gen,
                device());
  ASSERT_TRUE(layer.has_output_scale());
  Tensor x1 = sample({2, 5, 5, 4}, device(), 15, 0.f, 1.f), x2 = sample({2, 5, 5, 4}, device(), 16, 0.f, 3.f);

  layer.eval();
  EXPECT_FALSE(layer.weight_quantizer()->is_training());
  layer.forward(x1);
  EXPECT_FALSE(layer.quant_initialized()) << "eval forwards never initialize";
  EXPECT_FALSE(layer.weight_quantizer()->initialized());
  EXPECT_EQ(layer.output_scale().item(), 1.f);

  layer.train();
  EXPECT_TRUE(layer.input_quantizer()->is_training());
  Tensor y = layer.forward(x1);
  EXPECT_TRUE(layer.quant_initialized());
  EXPECT_TRUE(layer.weight_quantizer()->initialized());
  EXPECT_TRUE(layer.input_quantizer()->initialized());
  EXPECT_EQ(layer.state_dict().size(), 4u);  // weight, bias, alpha, initialized

  // α = mean|conv(x, W)| / mean|conv(Q_A, Q_W)| on that batch (spec §2.4), y = |α|·o + b.
  Tensor f = conv2d(x1, layer.weight(), Tensor(), layer.params());
  Tensor o = conv2d(dorefa_activation(x1, 2), dorefa_weight(layer.weight(), 2), Tensor(), layer.params());
  const double want_alpha = mean(abs(f)).item() / mean(abs(o)).item();
  EXPECT_NEAR(layer.output_scale().item(), want_alpha, 1e-5 * want_alpha);
  test::expect_close(test::to_ref(o * abs(layer.output_scale()) + layer.bias()), y, test::kForwardAtol, test::kForwardRtol, "y");

  // A second training batch (different statistics) leaves α alone.
  const float alpha = layer.output_scale().item();
  layer.forward(x2);
  EXPECT_EQ(layer.output_scale().item(), alpha);
}

TEST_P(QLayers, OutputScaleIsAQuantizerParameterWithGradient) {
  Generator gen(10);
  QLinear layer(6, 4, false, cfg("dorefa", 2, {{kOutputScaleOption, 1}}), cfg("dorefa", 2), gen,
                device());
  auto qp = quantizer_parameters(layer);
  ASSERT_EQ(qp.size(), 1u);
  EXPECT_EQ(qp[0].first, "alpha");
  EXPECT_EQ(non_quantizer_parameters(layer).size(), 1u);  // weight

  Tensor x = sample({5, 6}, device(), 17, 0.f, 1.f);
  Tensor g = sample({5, 4}, device(), 18);
  layer.forward(x);  // initializes α
  {
    NoGradGuard ng;
    Tensor alpha = layer.output_scale();
    alpha.fill_(-0.5f);  // used through |α|: the gradient carries sign(α)
  }
  Tensor y = layer.forward(x);
  sum(y * g).backward();
  Tensor o = linear(dorefa_activation(x, 2), dorefa_weight(layer.weight(), 2));
  const double want = -sum(o * g).item();
  EXPECT_NEAR(layer.output_scale().grad().item(), want, 1e-5 + 1e-5 * std::abs(want));
  test::expect_close(test::to_ref(o * 0.5f), y, test::kForwardAtol, test::kForwardRtol, "y = |α|·o");
  ASSERT_TRUE(layer.weight().grad().defined());
}

// ---- state dicts ----

TEST_P(QLayers, StateDictRoundTripIncludesQuantizerState) {
  auto make = [&](uint64_t seed) {
    Generator gen(seed);
    return make_model("resnet20",
                      resnet_options(factory("pact", 2, 2, {{"alpha", 2.0}, {kOutputScaleOption, 1}}), device()),
                      gen);
  };
  auto a = make(20), b = make(21);
  Tensor x = sample({2, 16, 16, 3}, device(), 19, 0.f, 1.f);
  a->forward(x);  // initializes a
  {
    NoGradGuard ng;
    int i = 0;
    for (auto& [name, t] : quantizer_parameters(*a)) t.fill_(1.5f + 0.125f * static_cast<float>(i++ % 5));
  }
  StateDict saved;
  for (auto& [name, t] : a->state_dict()) saved.emplace_back(name, t.clone());
  std::set<std::string> keys;
  for (auto& [name, t] : saved) keys.insert(name);
  EXPECT_TRUE(keys.count("layer1.0.conv1.aq.alpha"));
  EXPECT_TRUE(keys.count("layer1.0.conv1.alpha"));
  EXPECT_TRUE(keys.count("layer1.0.conv1.initialized"));

  b->load_state_dict(saved);
  for (auto& [name, l] : quantized_layers(*b)) EXPECT_TRUE(l->quant_initialized()) << name;
  for (bool training : {false, true}) {
    a->train(training);
    b->train(training);
    expect_equal(a->forward(x), b->forward(x), training ? "train" : "eval");
  }
  // The loaded output scales survived b's first training forward (no re-initialization).
  auto pa = quantizer_parameters(*a), pb = quantizer_parameters(*b);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second.item(), pb[i].second.item()) << pb[i].first;
}

TEST_P(QLayers, FloatCheckpointLoadsNonStrictAndInitializesLater) {
  Generator g1(30), g2(31);
  auto fp = make_model("resnet20", resnet_options(nullptr, device()), g1);
  auto q = make_model("resnet20", resnet_options(factory("dorefa", 2, 2, {{kOutputScaleOption, 1}}), device()), g2);
  LoadResult r = q->load_state_dict(fp->state_dict(), /*strict=*/false);
  EXPECT_TRUE(r.unexpected.empty());
  EXPECT_EQ(r.missing.size(), 36u);  // alpha + initialized per quantized conv (dorefa has no parameters)
  auto layers = quantized_layers(*q);
  EXPECT_FALSE(layers[0].second->quant_initialized());
  q->forward(sample({2, 16, 16, 3}, device(), 32));
  for (auto& [name, l] : layers) {
    EXPECT_TRUE(l->quant_initialized()) << name;
    EXPECT_NE(l->output_scale().item(), 1.f) << name;
  }
}

LOWBIT_INSTANTIATE_DEVICES(QLayers);

}  // namespace
}  // namespace lowbit
