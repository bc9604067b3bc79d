// Training runs with a run folder (tools/train/trainer.h), on tiny generated IDX datasets: the
// folder's files; evaluating a saved checkpoint gives exactly the accuracy the run reported; exact
// resume (two epochs straight = one epoch, interruption, resume, one more) for SGD and AdamW
// models with and without batch norm; refusal of corrupt, mismatched and foreign checkpoints and
// of settings changed on resume; a diverging loss stops naming epoch and step and leaves the last
// good checkpoint loadable.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/io/safetensors.h"
#include "tests/train_fixtures.h"
#include "tools/train/checkpoint.h"
#include "tools/train/evaluate.h"
#include "tools/train/trainer.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using train_test::error_of;
using train_test::fresh_dir;
using train_test::tiny_dataset;

// A small, quick run: mlp 16 -> 8 -> 10 on 4x4 images.
TrainConfig small_run(const std::string& name, uint32_t n = 60) {
  TrainConfig c;
  c.data_dir = tiny_dataset(name, n).string();
  c.out = (fresh_dir("run_" + name) / "run").string();
  c.hidden = {8};
  c.batch_size = 16;
  c.eval_batch_size = 25;
  c.log_every = 0;
  c.deterministic = true;
  return c;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every tensor of two safetensors files, bit for bit.
void expect_same_tensors(const std::string& a, const std::string& b) {
  io::SafetensorsFile fa = io::load_safetensors(a), fb = io::load_safetensors(b);
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (size_t i = 0; i < fa.tensors.size(); ++i) {
    const auto& [name, ta] = fa.tensors[i];
    const Tensor* tb = fb.find(name);
    ASSERT_NE(tb, nullptr) << name;
    ASSERT_EQ(ta.shape(), tb->shape()) << name;
    ASSERT_EQ(ta.dtype(), tb->dtype()) << name;
    const auto bytes = static_cast<size_t>(storage_bytes(ta.dtype(), ta.shape()));
    EXPECT_EQ(std::memcmp(ta.raw_data(), tb->raw_data(), bytes), 0) << name << " differs";
  }
}

TEST(TrainRun, WritesTheRunFolder) {
  TrainConfig c = small_run("folder");
  c.epochs = 2;
  std::ostringstream log;
  TrainResult r = train(c, log);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.run_dir, c.out);
  const fs::path dir = c.out;
  for (const char* f : {"config.json", "metrics.jsonl", "curves.svg", "last.safetensors", "final.safetensors"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  // config.json: the effective settings, readable as --config.
  const TrainConfig saved = config_from_json(read_config_file((dir / "config.json").string()), "config");
  EXPECT_EQ(saved.epochs, 2);
  EXPECT_EQ(saved.data_dir, c.data_dir);
  EXPECT_EQ(saved.device, "cpu");
  // metrics.jsonl: one line per epoch, as printed.
  const std::vector<std::string> lines = read_lines(dir / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], metrics_json(r.epochs[1]));
  EXPECT_THAT(log.str(), HasSubstr(lines[0]));
  EXPECT_THAT(log.str(), HasSubstr("epoch 2/2: train loss"));
  // Checkpoints: last and final hold epoch 2, with the config and the history.
  Checkpoint last = load_checkpoint((dir / "last.safetensors").string());
  EXPECT_EQ(last.epoch, 2);
  EXPECT_EQ(last.model, "mlp");
  EXPECT_EQ(last.config, config_to_json(saved));
  EXPECT_EQ(last.metrics.size(), 2u);
  EXPECT_FALSE(last.optimizer_state.empty());  // momentum buffers
  expect_same_tensors((dir / "last.safetensors").string(), (dir / "final.safetensors").string());
  // No stray temporaries.
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST(TrainRun, EvaluatingTheCheckpointGivesTheReportedAccuracy) {
  TrainConfig c = small_run("eval", 80);
  c.limit_train = 48;  // a subset of the data, as --limit-train
  c.limit_test = 30;
  std::ostringstream log;
  TrainResult r = train(c, log);
  ASSERT_EQ(r.epochs.size(), 1u);
  for (const char* file : {"final.safetensors", "last.safetensors"}) {
    CheckpointEval e = evaluate_checkpoint({.checkpoint = (fs::path(c.out) / file).string()});
    EXPECT_EQ(e.epoch, 1);
    EXPECT_EQ(e.result.examples, 30);
    EXPECT_EQ(e.result.accuracy, r.test_accuracy) << file;  // exactly
    EXPECT_EQ(e.result.loss, r.epochs[0].test_loss) << file;
  }
  // The whole test split on request.
  CheckpointEval all =
      evaluate_checkpoint({.checkpoint = (fs::path(c.out) / "final.safetensors").string(), .limit_test = 0});
  EXPECT_EQ(all.result.examples, 80);
}

TEST(TrainRun, RefusesToOverwriteARun) {
  TrainConfig c = small_run("overwrite");
  std::ostringstream log;
  train(c, log);
  EXPECT_THAT(error_of([&] { train(c, log); }),
              HasSubstr("already holds a run (last.safetensors); continue it with --resume"));
}

// Two epochs straight, against one epoch, an interruption, and a resumed second epoch.
void expect_exact_resume(TrainConfig c) {
  c.epochs = 2;
  std::ostringstream log;
  const TrainResult straight = train(c, log);

  TrainConfig first = c;
  first.out = c.out + "-interrupted";
  TrainHooks stop_after_one;
  stop_after_one.after_epoch = [](const EpochMetrics&) { return false; };
  const TrainResult part = train(first, log, stop_after_one);
  EXPECT_FALSE(part.completed);
  ASSERT_EQ(part.epochs.size(), 1u);
  EXPECT_FALSE(fs::exists(fs::path(first.out) / "final.safetensors"));

  TrainConfig again = first;
  again.resume = first.out;
  const TrainResult resumed = train(again, log);
  EXPECT_TRUE(resumed.completed);
  EXPECT_THAT(log.str(), HasSubstr("resuming " + first.out + " after epoch 1 of 2"));
  ASSERT_EQ(resumed.epochs.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(resumed.epochs[e].train_loss, straight.epochs[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.epochs[e].train_accuracy, straight.epochs[e].train_accuracy) << "epoch " << e + 1;
    EXPECT_EQ(resumed.epochs[e].test_loss, straight.epochs[e].test_loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.epochs[e].lr, straight.epochs[e].lr) << "epoch " << e + 1;
  }
  expect_same_tensors((fs::path(c.out) / "final.safetensors").string(),
                      (fs::path(first.out) / "final.safetensors").string());
  EXPECT_EQ(read_lines(fs::path(first.out) / "metrics.jsonl").size(), 2u);
}

TEST(TrainRun, ResumeIsExactForSgdWithNesterov) {
  TrainConfig c = small_run("resume_sgd");
  c.nesterov = true;
  c.weight_decay = 1e-3;
  c.schedule = "cosine";
  expect_exact_resume(c);
}

TEST(TrainRun, ResumeIsExactForAdamWWithBatchNormAndAugmentation) {
  // resnet20 (batch norm running statistics are buffers) at a quarter width on CIFAR-10-format data
  // (random crops and flips), with the decay split into groups, warm-up and gradient clipping.
  TrainConfig c = small_run("resume_adamw");
  c.dataset = "cifar10";
  c.data_dir = train_test::tiny_cifar10("resume_adamw", 8).string();  // 40 training images
  c.model = "resnet20";
  c.width_mult = 0.25;
  c.optimizer = "adamw";
  c.lr = 1e-3;
  c.weight_decay = 1e-2;
  c.no_decay_1d = true;
  c.warmup_epochs = 1;
  c.grad_clip = 1.0;
  expect_exact_resume(c);
}

TEST(TrainRun, ResumeRefusesChangedSettingsAndAllowsMoreEpochs) {
  TrainConfig c = small_run("resume_settings");
  c.schedule = "constant";
  std::ostringstream log;
  train(c, log);
  TrainConfig r = c;
  r.resume = c.out;
  r.lr = 0.1;
  EXPECT_THAT(error_of([&] { train(r, log); }),
              HasSubstr("resume: setting 'lr' is 0.05 in checkpoint " + c.out + "/last.safetensors but 0.1 now"));
  r = c;
  r.resume = c.out;
  r.out = c.out + "-elsewhere";
  EXPECT_THAT(error_of([&] { train(r, log); }), HasSubstr("a resumed run stays in its folder"));
  r = c;
  r.resume = c.out;
  r.epochs = 2;  // continue a finished run for one more epoch
  const TrainResult more = train(r, log);
  EXPECT_EQ(more.epochs.size(), 2u);
  EXPECT_EQ(load_checkpoint(c.out + "/final.safetensors").epoch, 2);
  // run_config reads what --resume starts from.
  EXPECT_EQ(run_config(c.out).epochs, 2);
  EXPECT_THAT(error_of([&] { run_config(c.out + "-nothing"); }), HasSubstr("holds no last.safetensors"));
}

TEST(TrainRun, CorruptCheckpointsAreRefused) {
  TrainConfig c = small_run("corrupt");
  std::ostringstream log;
  train(c, log);
  const std::string good = c.out + "/final.safetensors";
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path dir = fresh_dir("corrupt_files");
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream((dir / name).string(), std::ios::binary) << content;
    return (dir / name).string();
  };
  const std::string truncated = write("truncated.safetensors", bytes.substr(0, bytes.size() - 100));
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = truncated}); }), HasSubstr(truncated));
  std::string garbled = bytes;
  garbled[10] = '\x01';  // inside the JSON header
  const std::string garbled_file = write("garbled.safetensors", garbled);
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = garbled_file}); }), HasSubstr(garbled_file));
  const std::string empty = write("empty.safetensors", "");
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = empty}); }), HasSubstr(empty));
  // A resumed run refuses a corrupt last.safetensors before training.
  fs::copy_file(truncated, c.out + "/last.safetensors", fs::copy_options::overwrite_existing);
  TrainConfig r = c;
  r.resume = c.out;
  EXPECT_THAT(error_of([&] { train(r, log); }), HasSubstr(c.out + "/last.safetensors"));
}

TEST(TrainRun, MismatchedCheckpointsAreRefused) {
  TrainConfig c = small_run("mismatch");
  std::ostringstream log;
  train(c, log);
  const Checkpoint good = load_checkpoint(c.out + "/final.safetensors");
  const fs::path dir = fresh_dir("mismatch_files");

  Checkpoint wider = good;  // its config says hidden 16, its tensors are of hidden 8
  wider.config["hidden"] = {16};
  save_checkpoint((dir / "wider.safetensors").string(), wider);
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = (dir / "wider.safetensors").string()}); }),
              HasSubstr("does not fit the model: tensor '1.weight' is [8, 16] f32 in the file and [16, 16] f32"));

  Checkpoint other = good;  // another model's name
  other.model = "lenet5";
  save_checkpoint((dir / "other.safetensors").string(), other);
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = (dir / "other.safetensors").string()}); }),
              HasSubstr("its config names model 'mlp' but it holds 'lenet5'"));

  Checkpoint missing = good;  // a tensor short
  missing.model_state.pop_back();
  save_checkpoint((dir / "missing.safetensors").string(), missing);
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = (dir / "missing.safetensors").string()}); }),
              HasSubstr("does not fit the model: it lacks"));

  // A checkpoint of the 4x4 images against a dataset of 8x8 images.
  const std::string big = tiny_dataset("mismatch8", 20, 8).string();
  EXPECT_THAT(error_of([&] { evaluate_checkpoint({.checkpoint = c.out + "/final.safetensors", .data_dir = big}); }),
              HasSubstr("[8, 16] f32 in the file and [8, 64] f32 in the model"));
}

TEST(TrainRun, DivergenceStopsAndKeepsTheLastGoodCheckpoint) {
  // lr 0.05 in epoch 1, 0.05 * 1e30 in epoch 2.
  TrainConfig c = small_run("diverge");
  c.epochs = 3;
  c.schedule = "exponential";
  c.gamma = 1e30;
  std::ostringstream log;
  const std::string msg = error_of([&] { train(c, log); });
  EXPECT_THAT(msg, HasSubstr("at epoch 2 step "));
  EXPECT_THAT(msg, HasSubstr("the last good checkpoint (epoch 1) stays in " + c.out + "/last.safetensors"));
  const Checkpoint last = load_checkpoint(c.out + "/last.safetensors");
  EXPECT_EQ(last.epoch, 1);
  EXPECT_FALSE(fs::exists(c.out + "/final.safetensors"));
  // It still evaluates to what epoch 1 reported.
  const std::vector<std::string> lines = read_lines(fs::path(c.out) / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  const EpochMetrics m1 = metrics_from_json(nlohmann::json::parse(lines[0]), "metrics");
  EXPECT_EQ(evaluate_checkpoint({.checkpoint = c.out + "/last.safetensors"}).result.accuracy, m1.test_accuracy);

  // Diverging in the first epoch keeps the initial checkpoint (epoch 0).
  TrainConfig d = small_run("diverge_at_once", 64);
  d.lr = 1e30;
  d.schedule = "constant";
  d.batch_size = 8;
  EXPECT_THAT(error_of([&] { train(d, log); }), HasSubstr("at epoch 1 step 2"));
  EXPECT_EQ(load_checkpoint(d.out + "/last.safetensors").epoch, 0);
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
