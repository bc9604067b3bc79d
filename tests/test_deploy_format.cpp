// The .lbm deploy format (tools/deploy/format.h): a round trip keeps every op, attribute and
// tensor (packed b1 weights word for word); truncated and corrupt files, graphs that do not fit
// together, bad packed padding, unknown ops, newer versions and files that are not deploy models
// are refused with messages naming the file and the problem.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/io/safetensors.h"
#include "core/random.h"
#include "tests/file_util.h"
#include "tools/deploy/format.h"
#include "tools/deploy/runtime.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// A small graph by hand: sign -> xnor_conv2d (threshold) -> binary max-pool -> flatten ->
// xnor_linear (affine) -> hardtanh -> linear -> batch_norm. C = 37 input channels, so the packed
// conv weights have padding bits.
deploy::Graph small_graph() {
  Generator gen(21);
  deploy::Graph g;
  g.model = "hand";
  g.dataset = "random";
  g.height = g.width = 4;
  g.channels = 37;
  g.classes = 3;
  g.source = {{"note", "test"}};
  auto add = [&](deploy::OpKind kind, const std::string& name) -> deploy::Op& {
    g.ops.emplace_back(kind, name);
    return g.ops.back();
  };
  add(deploy::OpKind::sign, "in");
  deploy::Op& conv = add(deploy::OpKind::xnor_conv2d, "conv");
  conv.padding = 1;
  conv.epilogue = XnorEpilogue::Kind::threshold;
  conv.tensors["weight"] = Tensor::randn({5, 3, 3, 37}, Device::cpu(), &gen).to(DType::b1);
  conv.tensors["threshold"] = Tensor::from_vector(std::vector<int32_t>{-3, 0, 4, 1, 2}, {5});
  conv.tensors["mode"] = Tensor::from_vector(std::vector<uint8_t>{0, 1, 0, 2, 3}, {5});
  deploy::Op& pool = add(deploy::OpKind::binary_max_pool2d, "pool");
  pool.kernel = pool.stride = 2;
  add(deploy::OpKind::flatten, "flatten");
  deploy::Op& fc = add(deploy::OpKind::xnor_linear, "fc");
  fc.epilogue = XnorEpilogue::Kind::affine;
  fc.tensors["weight"] = Tensor::randn({6, 20}, Device::cpu(), &gen).to(DType::b1);
  fc.tensors["scale"] = Tensor::rand({6}, Device::cpu(), &gen);
  fc.tensors["bias"] = Tensor::randn({6}, Device::cpu(), &gen);
  deploy::Op& ht = add(deploy::OpKind::hardtanh, "act");
  ht.lo = -0.5f;
  ht.hi = 2.f;
  deploy::Op& out = add(deploy::OpKind::linear, "out");
  out.tensors["weight"] = Tensor::randn({3, 6}, Device::cpu(), &gen);
  deploy::Op& bn = add(deploy::OpKind::batch_norm, "bn");
  bn.eps = 1e-3f;
  bn.tensors["mean"] = Tensor::randn({3}, Device::cpu(), &gen);
  bn.tensors["var"] = Tensor::rand({3}, Device::cpu(), &gen);
  return g;
}

// The file's safetensors content with its metadata JSON edited by `edit`, written to `to`.
void rewrite(const std::string& from, const std::string& to, const std::function<void(json&)>& edit,
             const std::function<void(io::NamedTensors&)>& edit_tensors = {}) {
  io::SafetensorsFile f = io::load_safetensors(from);
  json doc = json::parse(f.metadata.at("lowbit-deploy"));
  edit(doc);
  if (edit_tensors) edit_tensors(f.tensors);
  io::save_safetensors(to, f.tensors, {{"lowbit-deploy", doc.dump()}});
}

TEST(DeployFormat, RoundTripKeepsEverything) {
  test::TempDir dir("deploy_format");
  deploy::Graph g = small_graph();
  const std::string path = dir.file("m.lbm");
  deploy::save_lbm(path, g);
  deploy::Graph back = deploy::load_lbm(path);
  EXPECT_EQ(back.model, "hand");
  EXPECT_EQ(back.source, g.source);
  ASSERT_EQ(back.ops.size(), g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const deploy::Op &a = g.ops[i], &b = back.ops[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.name, b.name) << i;
    EXPECT_EQ(a.epilogue, b.epilogue) << i;
    EXPECT_EQ(a.kernel * 1000 + a.stride * 10 + a.padding, b.kernel * 1000 + b.stride * 10 + b.padding) << i;
    EXPECT_EQ(a.lo, b.lo) << i;
    EXPECT_EQ(a.hi, b.hi) << i;
    EXPECT_EQ(a.eps, b.eps) << i;
    ASSERT_EQ(a.tensors.size(), b.tensors.size()) << i;
    for (const auto& [role, t] : a.tensors) {
      const Tensor& u = b.tensors.at(role);
      ASSERT_EQ(u.dtype(), t.dtype()) << i << " " << role;
      ASSERT_EQ(u.shape(), t.shape()) << i << " " << role;
      if (t.dtype() == DType::b1) EXPECT_EQ(u.to_host<uint32_t>(), t.to_host<uint32_t>()) << i << " " << role;
      else EXPECT_EQ(u.to(DType::f32).to_vector(), t.to(DType::f32).to_vector()) << i << " " << role;
    }
  }
  Generator gen(2);
  Tensor x = Tensor::randn({3, 4, 4, 37}, Device::cpu(), &gen);
  EXPECT_EQ(deploy::Runtime(back).forward(x).to_vector(), deploy::Runtime(g).forward(x).to_vector());
  // The file is written atomically: no temporaries left.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(DeployFormat, RefusesTruncatedAndCorruptFiles) {
  test::TempDir dir("deploy_corrupt");
  const std::string path = dir.file("m.lbm");
  deploy::save_lbm(path, small_graph());
  const test::Bytes bytes = test::read_bytes(path);
  // Truncated anywhere: in the length, the header, the tensors.
  for (size_t keep : {size_t{0}, size_t{5}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    const std::string cut = dir.put("cut.lbm", test::Bytes(bytes.begin(), bytes.begin() + keep));
    EXPECT_THAT(test::error_of([&] { deploy::load_lbm(cut); }), HasSubstr("cut.lbm")) << "kept " << keep;
  }
  // A damaged JSON header.
  test::Bytes bad = bytes;
  bad[12] = '#';
  const std::string damaged = dir.put("damaged.lbm", bad);
  EXPECT_THAT(test::error_of([&] { deploy::load_lbm(damaged); }), HasSubstr("damaged.lbm"));
  // A safetensors file that is not a deploy model.
  const std::string other = dir.file("other.safetensors");
  io::save_safetensors(other, {{"w", Tensor::zeros({2})}});
  EXPECT_THAT(test::error_of([&] { deploy::load_lbm(other); }), HasSubstr("not a lowbit deploy model"));
  EXPECT_THAT(test::error_of([&] { deploy::load_lbm(dir.file("missing.lbm")); }), HasSubstr("missing.lbm"));
}

TEST(DeployFormat, RefusesGraphsThatDoNotFit) {
  test::TempDir dir("deploy_bad_graph");
  const std::string good = dir.file("good.lbm"), bad = dir.file("bad.lbm");
  deploy::save_lbm(good, small_graph());
  auto error_after = [&](const std::function<void(json&)>& edit,
                         const std::function<void(io::NamedTensors&)>& edit_tensors = {}) {
    rewrite(good, bad, edit, edit_tensors);
    return test::error_of([&] { deploy::load_lbm(bad); });
  };
  EXPECT_THAT(error_after([](json& d) { d["version"] = 2; }), HasSubstr("format version 2"));
  EXPECT_THAT(error_after([](json& d) { d["ops"][2]["op"] = "avg_pool"; }), HasSubstr("unknown op 'avg_pool'"));
  EXPECT_THAT(error_after([](json& d) { d["ops"][1].erase("stride"); }), HasSubstr("op 1 has no field 'stride'"));
  EXPECT_THAT(error_after([](json& d) { d["ops"][1]["epilogue"] = "square"; }), HasSubstr("unknown epilogue"));
  EXPECT_THAT(error_after([](json& d) { d["ops"][4]["tensors"]["weight"] = "nothing"; }),
              HasSubstr("needs tensor 'nothing'"));
  EXPECT_THAT(error_after([](json& d) { d["input"]["channels"] = 36; }),
              HasSubstr("op 1 'conv' (xnor_conv2d): weight [5, 3, 3, 37] has 37 input channels"));
  EXPECT_THAT(error_after([](json& d) { d["classes"] = 4; }), HasSubstr("expected f32 [4]"));
  EXPECT_THAT(error_after([](json& d) { d["ops"].erase(3); }), HasSubstr("takes a feature vector"));
  EXPECT_THAT(error_after([](json& d) { d["packed"].erase("1.conv.weight"); }), HasSubstr("must be b1"));
  // Words of a packed tensor: the wrong count, and a padding bit set (37 channels: bits 5..31 of
  // every second word are padding).
  auto words = [](io::NamedTensors& ts, const std::function<Tensor(const Tensor&)>& f) {
    for (auto& [name, t] : ts)
      if (name == "1.conv.weight") t = f(t);
  };
  EXPECT_THAT(error_after([](json&) {}, [&](io::NamedTensors& ts) {
                words(ts, [](const Tensor& t) { return Tensor::zeros({5, 3, 3, 3}, DType::i32); });
              }),
              HasSubstr("must be stored as I32 words [5, 3, 3, 2]"));
  EXPECT_THAT(error_after([](json&) {}, [&](io::NamedTensors& ts) {
                words(ts, [](const Tensor& t) {
                  std::vector<int32_t> v = t.to_host<int32_t>();
                  v[3] |= 1 << 20;  // word 1 of row 1
                  return Tensor::from_vector(v, t.shape());
                });
              }),
              HasSubstr("row 1 has nonzero padding bits"));
  EXPECT_THAT(error_after([](json&) {}, [&](io::NamedTensors& ts) {
                for (auto& [name, t] : ts)
                  if (name == "1.conv.mode") t = Tensor::from_vector(std::vector<uint8_t>{0, 1, 9, 2, 3}, {5});
              }),
              HasSubstr("mode[2] = 9 is not a threshold mode"));
  EXPECT_THAT(error_after([](json&) {}, [&](io::NamedTensors& ts) { ts.emplace_back("stray", Tensor::zeros({1})); }),
              HasSubstr("tensor 'stray' belongs to no op"));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
