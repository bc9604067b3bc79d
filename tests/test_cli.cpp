// Tests of the `lowbit` program itself (run as a child process): --help lists every setting,
// --config files with command-line flags overriding them and unknown keys refused, `lowbit eval`
// reporting exactly the accuracy the run reported, --resume, and bad flags.
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <fstream>

#include "tests/cli_test.h"
#include "tools/train/config.h"

namespace lowbit {
namespace {

using namespace cli_test;

std::string write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

TEST(Cli, HelpListsEverySetting) {
  const CliRun r = lowbit_cli("train --help");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const std::string& key : config_keys()) EXPECT_THAT(r.output, HasSubstr("--" + key + " ")) << key;
  EXPECT_THAT(r.output, HasSubstr("--config"));
  EXPECT_THAT(r.output, HasSubstr("--resume"));
  EXPECT_THAT(lowbit_cli("eval --help").output, HasSubstr("--checkpoint"));
  const CliRun models = lowbit_cli("models");
  EXPECT_EQ(models.code, 0);
  EXPECT_THAT(models.output, HasSubstr("resnet20"));
}

TEST(Cli, TrainWithAConfigFileEvalAndResume) {
  const fs::path data = tiny_dataset("cli", 60);
  const fs::path dir = fresh_dir("cli_run");
  const fs::path out = dir / "run";
  const std::string config = write_file(
      dir / "settings.json", json{{"epochs", 3}, {"lr", 0.02}, {"hidden", {8}}, {"batch_size", 16},
                                  {"data-dir", data.string()}, {"log-every", 0}, {"limit-test", 40}}
                                 .dump());
  // The file's epochs (3) lose to the flag's (1); its lr, hidden and batch size stay.
  const CliRun train =
      lowbit_cli("train --config " + config + " --epochs 1 --deterministic --out " + shell_quoted(out));
  ASSERT_EQ(train.code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("{\"settings\":{"));
  EXPECT_THAT(train.output, HasSubstr("test accuracy "));
  const json saved = json::parse(std::ifstream(out / "config.json"));
  EXPECT_EQ(saved["epochs"], 1);
  EXPECT_EQ(saved["lr"], 0.02);
  EXPECT_EQ(saved["hidden"], json::array({8}));
  EXPECT_EQ(saved["batch-size"], 16);
  EXPECT_EQ(saved["deterministic"], true);

  // `lowbit eval` on the run folder: the accuracy and loss of the run's last epoch, exactly.
  std::ifstream metrics_file(out / "metrics.jsonl");
  const std::string metrics((std::istreambuf_iterator<char>(metrics_file)), std::istreambuf_iterator<char>());
  const json reported = last_json_line(metrics);
  const CliRun eval = lowbit_cli("eval --checkpoint " + shell_quoted(out));
  ASSERT_EQ(eval.code, 0) << eval.output;
  const json evaluated = last_json_line(eval.output);
  EXPECT_EQ(evaluated["test_accuracy"].get<double>(), reported["test_accuracy"].get<double>());
  EXPECT_EQ(evaluated["test_loss"].get<double>(), reported["test_loss"].get<double>());
  EXPECT_EQ(evaluated["examples"], 40);
  EXPECT_THAT(eval.output, HasSubstr("(mlp, epoch 1): test loss"));

  // --resume with one more epoch continues; a changed lr is refused.
  const CliRun more = lowbit_cli("train --resume " + shell_quoted(out) + " --epochs 2");
  ASSERT_EQ(more.code, 0) << more.output;
  EXPECT_THAT(more.output, HasSubstr("after epoch 1 of 2"));
  EXPECT_EQ(json::parse(std::ifstream(out / "config.json"))["epochs"], 2);
  const CliRun changed = lowbit_cli("train --resume " + shell_quoted(out) + " --epochs 3 --lr 1");
  EXPECT_EQ(changed.code, 1);
  EXPECT_THAT(changed.output, HasSubstr("lowbit: error: resume: setting 'lr' is 0.02"));
  // A fresh run into the same folder is refused.
  const CliRun again = lowbit_cli("train --config " + config + " --out " + shell_quoted(out));
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.output, HasSubstr("already holds a run"));
}

TEST(Cli, UnknownConfigKeysAndBadFlagsAreRefused) {
  const fs::path dir = fresh_dir("cli_bad");
  const std::string config = write_file(dir / "bad.json", R"({"epochs": 1, "lrate": 0.1})");
  const CliRun r = lowbit_cli("train --config " + config + " --out " + shell_quoted(dir / "run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("lowbit: error: config " + config + ": unknown key 'lrate'"));
  EXPECT_FALSE(fs::exists(dir / "run"));

  const CliRun flag = lowbit_cli("train --optimizer rmsprop");
  EXPECT_NE(flag.code, 0);
  EXPECT_THAT(flag.output, HasSubstr("rmsprop"));
  const CliRun eval = lowbit_cli("eval --checkpoint " + shell_quoted(dir / "missing.safetensors"));
  EXPECT_EQ(eval.code, 1);
  EXPECT_THAT(eval.output, HasSubstr("missing.safetensors"));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY && LOWBIT_CLI_PATH
