// Tests for training checkpoints (tools/train/checkpoint.h): round trip of every part, the file
// layout (prefixed tensors, the "lowbit" metadata document), and refusal of incomplete,
// mistyped or newer documents with messages naming the file and the field.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include "tools/train/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/error.h"
#include "tests/file_util.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::error_of;
using ::testing::HasSubstr;

Checkpoint sample() {
  Checkpoint c;
  c.model = "resnet20";
  c.epoch = 3;
  c.config = {{"lr", 0.1}, {"epochs", 400}, {"schedule", "cosine"}, {"hidden", {256, 128}}};
  c.model_state = {{"fc.weight", Tensor::arange(0, 6).view({2, 3})},
                   {"fc.bias", Tensor::from_vector({0.5f, -0.5f}, {2})},
                   {"bn.num_batches_tracked", Tensor::from_vector(std::vector<int32_t>{17}, {})}};
  c.optimizer_state = {{"momentum.fc.weight", Tensor::full({2, 3}, 0.25f)}};
  c.optimizer = {{"name", "sgd"}, {"step", 1234}, {"groups", {{{"lr", 0.05}, {"weight_decay", 5e-4}}}}};
  c.rng = {(uint64_t{1} << 63) + 5, 99, 3};
  c.metrics = {{"test_accuracy", 0.875}, {"train_loss", 0.3}};
  return c;
}

class CheckpointTest : public ::testing::Test {
 protected:
  // Saves the sample, lets `edit` change its metadata document, writes it back and returns the
  // error that loading it gives.
  std::string error_after(const std::function<void(json&)>& edit) {
    save_checkpoint(path_, sample());
    io::SafetensorsFile f = io::load_safetensors(path_);
    json doc = json::parse(f.metadata.at("lowbit"));
    edit(doc);
    io::save_safetensors(path_, f.tensors, {{"lowbit", doc.dump()}});
    return error_of([&] { load_checkpoint(path_); });
  }
  test::TempDir dir_{"checkpoint"};
  std::string path_ = dir_.file("ckpt.safetensors");
};

void expect_same(const io::NamedTensors& want, const io::NamedTensors& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].first, got[i].first);
    EXPECT_EQ(want[i].second.dtype(), got[i].second.dtype()) << want[i].first;
    EXPECT_EQ(want[i].second.shape(), got[i].second.shape()) << want[i].first;
    EXPECT_EQ(want[i].second.to_vector(), got[i].second.to_vector()) << want[i].first;
  }
}

TEST_F(CheckpointTest, RoundTrips) {
  Checkpoint c = sample();
  save_checkpoint(path_, c);
  Checkpoint d = load_checkpoint(path_);
  EXPECT_EQ(d.model, c.model);
  EXPECT_EQ(d.epoch, c.epoch);
  EXPECT_EQ(d.config, c.config);
  EXPECT_EQ(d.optimizer, c.optimizer);
  EXPECT_EQ(d.metrics, c.metrics);
  EXPECT_EQ(d.rng.seed, c.rng.seed);
  EXPECT_EQ(d.rng.stream, c.rng.stream);
  EXPECT_EQ(d.rng.epoch, c.rng.epoch);
  expect_same(c.model_state, d.model_state);
  expect_same(c.optimizer_state, d.optimizer_state);

  // An empty checkpoint (no tensors, default JSON) round-trips too.
  Checkpoint e;
  e.model = "mlp";
  save_checkpoint(path_, e);
  Checkpoint f = load_checkpoint(path_);
  EXPECT_EQ(f.model, "mlp");
  EXPECT_TRUE(f.model_state.empty() && f.optimizer_state.empty());
  EXPECT_EQ(f.config, json::object());
}

TEST_F(CheckpointTest, IsASafetensorsFileWithPrefixedNames) {
  save_checkpoint(path_, sample());
  io::SafetensorsFile f = io::load_safetensors(path_);
  std::vector<std::string> names;
  for (const auto& [name, t] : f.tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.fc.weight", "model.fc.bias", "model.bn.num_batches_tracked",
                                             "optim.momentum.fc.weight"}));
  ASSERT_EQ(f.metadata.size(), 1u);
  json doc = json::parse(f.metadata.at("lowbit"));
  EXPECT_EQ(doc["format"], "lowbit-checkpoint");
  EXPECT_EQ(doc["version"], kCheckpointVersion);
  EXPECT_EQ(doc["model"], "resnet20");
  EXPECT_EQ(doc["epoch"], 3);
  EXPECT_EQ(doc["rng"]["seed"], (uint64_t{1} << 63) + 5);
}

TEST_F(CheckpointTest, RefusesMissingFields) {
  for (const char* field : {"format", "version", "model", "epoch", "config", "optimizer", "rng", "metrics"})
    EXPECT_THAT(error_after([&](json& doc) { doc.erase(field); }),
                HasSubstr("checkpoint " + path_ + ": missing field '" + field + "'"));
  for (const char* field : {"seed", "stream", "epoch"})
    EXPECT_THAT(error_after([&](json& doc) { doc["rng"].erase(field); }),
                HasSubstr("checkpoint " + path_ + ": missing field 'rng." + field + "'"));
}

TEST_F(CheckpointTest, RefusesANewerOrInvalidVersion) {
  EXPECT_THAT(error_after([](json& doc) { doc["version"] = 2; }),
              HasSubstr("checkpoint " + path_ + ": format version 2 is newer than this lowbit (1)"));
  EXPECT_THAT(error_after([](json& doc) { doc["version"] = 0; }), HasSubstr("format version 0 is invalid"));
  EXPECT_THAT(error_after([](json& doc) { doc["version"] = "1"; }),
              HasSubstr("field 'version' must be a non-negative integer, got \"1\""));
  EXPECT_THAT(error_after([](json& doc) { doc["format"] = "other"; }),
              HasSubstr("format is \"other\", expected \"lowbit-checkpoint\""));
}

TEST_F(CheckpointTest, RefusesMistypedFields) {
  EXPECT_THAT(error_after([](json& doc) { doc["epoch"] = -1; }),
              HasSubstr("field 'epoch' must be a non-negative integer, got -1"));
  EXPECT_THAT(error_after([](json& doc) { doc["model"] = ""; }), HasSubstr("field 'model' must be a non-empty string"));
  EXPECT_THAT(error_after([](json& doc) { doc["config"] = json::array(); }),
              HasSubstr("field 'config' must be a JSON object, got array"));
  EXPECT_THAT(error_after([](json& doc) { doc["rng"]["stream"] = 1.5; }),
              HasSubstr("field 'rng.stream' must be a non-negative integer, got 1.5"));
  EXPECT_THAT(error_after([](json& doc) { doc = json::array(); }),
              HasSubstr("metadata 'lowbit' must be a JSON object, got array"));
}

TEST_F(CheckpointTest, RefusesForeignFiles) {
  io::save_safetensors(path_, {{"model.w", Tensor::ones({2})}}, {{"format", "pt"}});
  EXPECT_THAT(error_of([&] { load_checkpoint(path_); }),
              HasSubstr("checkpoint " + path_ + ": not a lowbit checkpoint (the safetensors metadata has no 'lowbit'"));
  io::save_safetensors(path_, {}, {{"lowbit", "{not json"}});
  EXPECT_THAT(error_of([&] { load_checkpoint(path_); }), HasSubstr("metadata 'lowbit' is not valid JSON"));

  save_checkpoint(path_, sample());
  io::SafetensorsFile f = io::load_safetensors(path_);
  f.tensors.emplace_back("stray", Tensor::ones({1}));
  io::save_safetensors(path_, f.tensors, f.metadata);
  EXPECT_THAT(error_of([&] { load_checkpoint(path_); }),
              HasSubstr("tensor 'stray' has neither the 'model.' nor the 'optim.' prefix"));

  // Corruption of the file itself is reported by the safetensors reader, naming the file.
  save_checkpoint(path_, sample());
  fs::resize_file(path_, fs::file_size(path_) - 4);
  EXPECT_THAT(error_of([&] { load_checkpoint(path_); }), HasSubstr("safetensors file " + path_));
}

TEST_F(CheckpointTest, RefusesToSaveBadCheckpoints) {
  Checkpoint c = sample();
  c.model = "";
  EXPECT_THAT(error_of([&] { save_checkpoint(path_, c); }), HasSubstr("the model name is empty"));
  c = sample();
  c.epoch = -2;
  EXPECT_THAT(error_of([&] { save_checkpoint(path_, c); }), HasSubstr("epoch -2 is negative"));
  c = sample();
  c.config = 5;
  EXPECT_THAT(error_of([&] { save_checkpoint(path_, c); }), HasSubstr("config must be a JSON object, got number"));
  c = sample();
  c.optimizer = json::array();
  EXPECT_THAT(error_of([&] { save_checkpoint(path_, c); }), HasSubstr("optimizer must be a JSON object"));
  EXPECT_FALSE(fs::exists(path_));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
