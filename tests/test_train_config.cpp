// Tests of the training settings (tools/train/config.h): JSON round trip, `--config` files
// (unknown keys and wrong types refused, naming the key; unreadable and non-JSON files naming the
// file), flags over file precedence, and the settings checks; plus the run-output helpers:
// metrics JSON, the SVG curves and the progress lines.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/train_fixtures.h"
#include "tools/train/config.h"
#include "tools/train/metrics.h"
#include "tools/train/progress.h"
#include "tools/train/svg_plot.h"

namespace lowbit {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using train_test::error_of;
using train_test::fresh_dir;

TrainConfig unusual_config() {
  TrainConfig c;
  c.model = "lenet5";
  c.dataset = "cifar10";
  c.data_dir = "/data/cifar";
  c.hidden = {32, 16};
  c.width_mult = 0.5;
  c.limit_train = 100;
  c.limit_test = 50;
  c.data_threads = 3;
  c.bad_images = "refuse";
  c.epochs = 7;
  c.batch_size = 32;
  c.eval_batch_size = 200;
  c.optimizer = "adamw";
  c.lr = 1e-3;
  c.momentum = 0.5;
  c.nesterov = true;
  c.weight_decay = 5e-4;
  c.no_decay_1d = true;
  c.schedule = "multistep";
  c.milestones = {3, 5};
  c.gamma = 0.2;
  c.warmup_epochs = 1;
  c.grad_clip = 5;
  c.device = "auto";
  c.seed = 1995;
  c.deterministic = true;
  c.log_every = 3;
  c.out = "runs/x";
  c.recipe = "ewgs-cifar10";
  c.quant = "ewgs";
  c.w_bits = 2;
  c.a_bits = 4;
  c.first_last_bits = 8;
  c.last_input_bits = 4;
  c.quant_options = "delta=0.01";
  c.init_from = "fp.safetensors";
  c.quant_optimizer = "sgd";
  c.quant_lr = 1e-3;
  c.weight_clip = "on";
  c.ewgs_delta = "hessian";
  c.ewgs_delta_every = 5;
  c.ewgs_delta_batches = 2;
  c.aqe_alpha_start = 0.25;
  c.aqe_alpha_end = 0.75;
  c.sync_bn = true;
  return c;
}

TEST(TrainConfig, JsonRoundTripKeepsEverySetting) {
  const TrainConfig c = unusual_config();
  const json j = config_to_json(c);
  EXPECT_EQ(j.size(), config_keys().size());
  EXPECT_EQ(j["batch-size"], 32);
  EXPECT_EQ(j["milestones"], json::array({3, 5}));
  const TrainConfig back = config_from_json(j, "test");
  EXPECT_EQ(config_to_json(back), j);
  EXPECT_FALSE(j.contains("resume"));  // an action, not a setting
}

TEST(TrainConfig, EveryKeyChangesItsOwnSetting) {
  const json defaults = config_to_json(TrainConfig{});
  const json other = config_to_json(unusual_config());
  for (const std::string& key : config_keys()) {
    ASSERT_NE(defaults[key], other[key]) << key << ": the test config must differ from the default";
    const TrainConfig c = config_from_json(json{{key, other[key]}}, "test");
    const json got = config_to_json(c);
    for (const std::string& k : config_keys())
      EXPECT_EQ(got[k], k == key ? other[k] : defaults[k]) << key << " / " << k;
  }
}

TEST(TrainConfig, UnknownKeysAreRefusedNamingTheKey) {
  const std::string msg = error_of([] { config_from_json(json{{"lr", 0.1}, {"lrate", 0.1}}, "config f.json"); });
  EXPECT_THAT(msg, HasSubstr("config f.json: unknown key 'lrate'"));
  EXPECT_THAT(msg, HasSubstr("known: model, dataset"));
  EXPECT_THAT(error_of([] { config_from_json(json{{"resume", "runs/x"}}, "c"); }), HasSubstr("unknown key 'resume'"));
}

TEST(TrainConfig, UnderscoresReadAsDashes) {
  const TrainConfig c = config_from_json(json{{"batch_size", 16}, {"weight_decay", 0.5}}, "c");
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.weight_decay, 0.5);
  EXPECT_TRUE(is_config_key("eval_batch_size"));
  EXPECT_FALSE(is_config_key("config"));
}

TEST(TrainConfig, WrongTypesAreRefusedNamingTheKey) {
  auto msg = [](const json& j) { return error_of([&] { config_from_json(j, "config f.json"); }); };
  EXPECT_THAT(msg(json{{"epochs", "ten"}}), HasSubstr("config f.json: 'epochs' must be an integer, got \"ten\""));
  EXPECT_THAT(msg(json{{"epochs", 2.5}}), HasSubstr("'epochs' must be an integer"));
  EXPECT_THAT(msg(json{{"lr", "0.1"}}), HasSubstr("'lr' must be a number"));
  EXPECT_THAT(msg(json{{"nesterov", 1}}), HasSubstr("'nesterov' must be true or false"));
  EXPECT_THAT(msg(json{{"model", 3}}), HasSubstr("'model' must be a string"));
  EXPECT_THAT(msg(json{{"seed", -1}}), HasSubstr("'seed' must be a non-negative integer"));
  EXPECT_THAT(msg(json{{"hidden", json::array({8, "x"})}}), HasSubstr("'hidden' must be an array of integers"));
  EXPECT_THAT(msg(json::array({1})), HasSubstr("settings must be a JSON object"));
}

TEST(TrainConfig, FlagsGivenOnTheCommandLineOverrideTheFile) {
  TrainConfig file = config_from_json(json{{"lr", 0.01}, {"epochs", 3}, {"model", "lenet5"}}, "c");
  TrainConfig flags;  // as CLI11 leaves it: defaults, plus what was given
  flags.epochs = 1;
  flags.seed = 42;
  const TrainConfig c = merge_config(file, flags, {"epochs", "seed"});
  EXPECT_EQ(c.epochs, 1);     // flag over file
  EXPECT_EQ(c.seed, 42u);     // flag over default
  EXPECT_EQ(c.lr, 0.01);      // file over default (the flag's default does not count)
  EXPECT_EQ(c.model, "lenet5");
  EXPECT_EQ(c.batch_size, TrainConfig{}.batch_size);
}

TEST(TrainConfig, ConfigFilesAreReadWithErrorsNamingTheFile) {
  const auto dir = fresh_dir("config_files");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  const std::string good = write("good.json", R"({"model": "lenet5", "lr": 0.01, "milestones": [2, 4]})");
  const TrainConfig c = config_from_json(read_config_file(good), "config " + good);
  EXPECT_EQ(c.model, "lenet5");
  EXPECT_EQ(c.milestones, (std::vector<int64_t>{2, 4}));

  const std::string bad = write("bad.json", R"({"model": "lenet5",)");
  EXPECT_THAT(error_of([&] { read_config_file(bad); }), HasSubstr("config " + bad + ": not valid JSON"));
  const std::string array = write("array.json", "[1, 2]");
  EXPECT_THAT(error_of([&] { read_config_file(array); }), HasSubstr("must hold a JSON object, got array"));
  const std::string missing = (dir / "missing.json").string();
  EXPECT_THAT(error_of([&] { read_config_file(missing); }), HasSubstr("config " + missing + ": cannot open"));
}

TEST(TrainConfig, ChecksNameTheSetting) {
  auto msg = [](auto change) {
    TrainConfig c;
    change(c);
    return error_of([&] { check_config(c); });
  };
  EXPECT_THAT(msg([](TrainConfig& c) { c.epochs = 0; }), HasSubstr("epochs must be >= 1, got 0"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.eval_batch_size = 0; }), HasSubstr("eval-batch-size must be >= 1"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.optimizer = "rmsprop"; }), HasSubstr("optimizer must be sgd, adam or adamw"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.momentum = 1; }), HasSubstr("momentum must be < 1"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.momentum = 0, c.nesterov = true; }), HasSubstr("nesterov needs"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.schedule = "multistep"; }), HasSubstr("multistep needs milestones"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.milestones = {5, 5}; }), HasSubstr("milestones must be strictly increasing"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.gamma = 0; }), HasSubstr("gamma must be"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.grad_clip = -1; }), HasSubstr("grad-clip must be"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.limit_train = -1; }), HasSubstr("limit-train must be >= 0"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.data_threads = -1; }), HasSubstr("data-threads must be >= 0"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.bad_images = "ignore"; }), HasSubstr("bad-images must be skip or refuse"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.width_mult = 0; }), HasSubstr("width-mult must be"));
  EXPECT_THAT(msg([](TrainConfig& c) { c.lr = std::nan(""); }), HasSubstr("lr must be a finite number"));
}

TEST(TrainConfig, OnlyRunIndependentSettingsMayChangeOnResume) {
  for (const char* key : {"epochs", "data-dir", "device", "log-every", "limit-test", "eval_batch_size", "data-threads",
                           "bad-images", "sync-bn"})
    EXPECT_TRUE(may_change_on_resume(key)) << key;
  for (const char* key : {"model", "lr", "seed", "batch-size", "optimizer", "schedule", "limit-train", "hidden"})
    EXPECT_FALSE(may_change_on_resume(key)) << key;
}

TEST(TrainOutput, MetricsJsonRoundTrip) {
  EpochMetrics m{.epoch = 3, .train_loss = 0.5, .train_accuracy = 0.8, .test_loss = 0.625, .test_accuracy = 0.75,
                 .lr = 0.01, .seconds = 2.5, .images_per_second = 100};
  const std::string line = metrics_json(m);
  EXPECT_THAT(line, HasSubstr("\"epoch\":3"));
  EXPECT_THAT(line, HasSubstr("\"test_accuracy\":0.75"));
  const EpochMetrics back = metrics_from_json(json::parse(line), "t");
  EXPECT_EQ(metrics_json(back), line);
  EXPECT_EQ(metrics_jsonl({m, m}), line + "\n" + line + "\n");
  EXPECT_THAT(error_of([] { metrics_from_json(json{{"epoch", 1}}, "ck"); }), HasSubstr("ck: epoch metrics lack"));
}

TEST(TrainOutput, CurvesAreAnSvgWithBothCharts) {
  std::vector<EpochMetrics> history;
  for (int e = 1; e <= 4; ++e)
    history.push_back({.epoch = e, .train_loss = 2.0 / e, .train_accuracy = 0.2 * e, .test_loss = 2.2 / e,
                       .test_accuracy = 0.19 * e, .lr = 0.1, .seconds = 1, .images_per_second = 1});
  history[2].test_loss = std::nan("");  // left out, not drawn as NaN
  const std::string svg = training_curves_svg(history, "mlp <on> fashion-mnist");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_THAT(svg, HasSubstr("mlp &lt;on&gt; fashion-mnist"));
  EXPECT_THAT(svg, HasSubstr(">loss</text>"));
  EXPECT_THAT(svg, HasSubstr(">accuracy (%)</text>"));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 4u);  // train and test, loss and accuracy
  // One epoch: points only, and still a valid document.
  EXPECT_THAT(training_curves_svg({history[0]}, "t"), HasSubstr("<circle"));
}

TEST(TrainOutput, NiceTicks) {
  const std::vector<double> unit = svg::nice_ticks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * static_cast<double>(i), 1e-12);
  EXPECT_EQ(svg::nice_ticks(1, 4, 6, true), (std::vector<double>{1, 2, 3, 4}));
  const std::vector<double> epochs = svg::nice_ticks(1, 400, 6, true);  // step 50
  ASSERT_EQ(epochs.size(), 8u);
  EXPECT_EQ(epochs.front(), 50);
  EXPECT_EQ(epochs.back(), 400);
}

TEST(TrainOutput, ProgressLinesEveryNStepsAndAtTheEnd) {
  std::ostringstream out;
  Progress p(out, Progress::Style::lines, 2);
  p.start_epoch(1, 3, 5);
  for (int64_t s = 1; s <= 5; ++s) p.update(s, 10 * s, 1.5 * 10 * s, 5 * s);
  p.end_epoch();
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("epoch 1/3 step 2/5 loss 1.5000 acc 50.00%"));
  EXPECT_THAT(text, HasSubstr("epoch 1/3 step 4/5"));
  EXPECT_THAT(text, HasSubstr("epoch 1/3 step 5/5"));
  EXPECT_EQ(text.find("step 3/5"), std::string::npos);
  EXPECT_THAT(text, HasSubstr(" img/s ETA "));
  const char* clock = "[0-9]+:[0-9][0-9]:[0-9][0-9]";
  EXPECT_THAT(text, ::testing::ContainsRegex(std::string("ETA ") + clock + " \\(run " + clock + "\\)"));
  std::ostringstream none;
  Progress q(none, Progress::Style::bar, 0);  // every 0: silent
  q.start_epoch(1, 1, 1);
  q.update(1, 1, 1, 1);
  q.end_epoch();
  EXPECT_EQ(none.str(), "");
}

TEST(TrainOutput, ProgressBarRedrawsOneLine) {
  std::ostringstream out;
  Progress p(out, Progress::Style::bar, 1);
  p.start_epoch(2, 5, 4);
  p.update(4, 40, 20, 30);
  p.end_epoch();
  EXPECT_EQ(out.str().rfind("\r\033[Kepoch 2/5 [####################] 4/4 loss 0.5000 acc 75.00%", 0), 0u);
  EXPECT_EQ(out.str().back(), '\n');
  EXPECT_EQ(Progress::clock(3725), "1:02:05");
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY
