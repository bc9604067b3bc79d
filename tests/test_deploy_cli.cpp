// The deploy path from a real run: train a tiny 1-bit bnn_lenet with the training library on a
// tiny 28x28 dataset, export its checkpoint (library and `lowbit export`), and run the .lbm
// (library and `lowbit infer`): the deploy model's predictions equal the training graph's on every
// test image and its accuracy equals `lowbit eval`'s; an 8-bit EWGS run (past the multi-bit
// path's 7-bit input codes) is refused by name.
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <fstream>
#include <sstream>

#include "tests/cli_test.h"
#include "tools/deploy/from_checkpoint.h"
#include "tools/deploy/format.h"
#include "tools/deploy/infer.h"
#include "tools/train/build.h"
#include "tools/train/trainer.h"

namespace lowbit {
namespace {

using namespace cli_test;

TrainConfig binary_run(const std::string& name, const fs::path& data) {
  TrainConfig c;
  c.model = "bnn_lenet";
  c.width_mult = 0.25;
  c.data_dir = data.string();
  c.out = (fresh_dir("deploy_" + name) / "run").string();
  c.quant = "bnn";
  c.w_bits = c.a_bits = 1;
  c.optimizer = "adam";
  c.lr = 0.01;
  c.batch_size = 20;
  c.eval_batch_size = 32;
  c.log_every = 0;
  c.deterministic = true;
  return c;
}

TEST(DeployCli, ExportAndInferAgreeWithTheTrainingGraph) {
  const fs::path data = tiny_dataset("deploy_cli", 100, 28);
  TrainConfig c = binary_run("cli", data);
  std::ostringstream log;
  TrainResult trained = train(c, log);
  const std::string ckpt = (fs::path(c.out) / "final.safetensors").string();

  // Library: export, write, read, and run over the test split next to the training graph.
  const std::string lbm = (fs::path(c.out) / "model.lbm").string();
  deploy::save_lbm(lbm, deploy::export_checkpoint(ckpt));
  deploy::Runtime rt(deploy::load_lbm(lbm));
  RunData d = load_data(c, Device::cpu(), false);
  deploy::InferResult deployed = deploy::infer(rt, *d.test);
  deploy::CheckpointModel m = deploy::load_checkpoint_model(ckpt);
  deploy::InferResult reference = deploy::infer(*m.model, *d.test);
  EXPECT_EQ(deployed.examples(), 100);
  EXPECT_EQ(deploy::same_predictions(deployed, reference), 100);
  EXPECT_EQ(deployed.accuracy(), trained.test_accuracy);

  // CLI: export again to another file, then infer with the comparison.
  const std::string lbm2 = (fs::path(c.out) / "cli.lbm").string();
  const CliRun exported = lowbit_cli("export --checkpoint " + shell_quoted(c.out) + " --out " +
                                     shell_quoted(lbm2));
  ASSERT_EQ(exported.code, 0) << exported.output;
  EXPECT_THAT(exported.output, HasSubstr("xnor_conv2d (threshold)  conv2"));
  EXPECT_EQ(last_json_line(exported.output)["binary_layers"], 3);
  const CliRun inferred =
      lowbit_cli("infer " + shell_quoted(lbm2) + " --data-dir " + shell_quoted(data) + " --batch-size 32");
  ASSERT_EQ(inferred.code, 0) << inferred.output;
  EXPECT_THAT(inferred.output, HasSubstr("predictions identical on 100 of 100 images"));
  const json line = last_json_line(inferred.output);
  EXPECT_EQ(line["test_accuracy"].get<double>(), trained.test_accuracy);
  EXPECT_EQ(line["reference_test_accuracy"].get<double>(), trained.test_accuracy);
  EXPECT_EQ(line["same_predictions"], 100);
  EXPECT_GT(line["speedup"].get<double>(), 0.0);
  const CliRun alone = lowbit_cli("infer " + shell_quoted(lbm2) + " --data-dir " + shell_quoted(data) +
                                  " --no-compare --limit-test 10");
  ASSERT_EQ(alone.code, 0) << alone.output;
  EXPECT_FALSE(last_json_line(alone.output).contains("speedup"));
  EXPECT_EQ(last_json_line(alone.output)["examples"], 10);
}

TEST(DeployCli, RefusesAModelItCannotDeploy) {
  const fs::path data = tiny_dataset("deploy_cli_ewgs", 40, 28);
  TrainConfig c = binary_run("ewgs", data);
  c.quant = "ewgs";
  c.w_bits = c.a_bits = 8;
  std::ostringstream log;
  train(c, log);
  const CliRun r = lowbit_cli("export --checkpoint " + shell_quoted(c.out) + " --out " +
                              shell_quoted(fs::path(c.out) / "x.lbm"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("lowbit: error: export: layer 'conv2' quantizes its input with 'ewgs' at 8 bits; "
                                  "the multi-bit deploy path takes 1-7 bits for it"));
  EXPECT_FALSE(fs::exists(fs::path(c.out) / "x.lbm"));
  // A corrupt .lbm is refused by infer.
  const std::string broken = (fs::path(c.out) / "broken.lbm").string();
  std::ofstream(broken) << "not a model";
  const CliRun bad = lowbit_cli("infer " + shell_quoted(broken) + " --data-dir " + shell_quoted(data));
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.output, HasSubstr("lowbit: error: "));
  EXPECT_THAT(bad.output, HasSubstr("broken.lbm"));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
