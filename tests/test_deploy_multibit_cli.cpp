// The multi-bit deploy path from a real run: a tiny lenet5 trained with EWGS at W2A2 (output scale)
// on a tiny 28x28 dataset, exported with `lowbit export` and run with `lowbit infer` on each
// --multibit-path: every test prediction equals the training graph's, the accuracy is the run's,
// and each multi-bit layer's formats and path are printed.
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <sstream>

#include "tests/cli_test.h"
#include "tools/train/trainer.h"

namespace lowbit {
namespace {

using namespace cli_test;

TEST(DeployMultibitCli, ExportAndInferAgreeWithTheTrainingGraph) {
  const fs::path data = tiny_dataset("deploy_multibit_cli", 100, 28);
  TrainConfig c;
  c.model = "lenet5";
  c.data_dir = data.string();
  c.out = (fresh_dir("deploy_multibit_cli_run") / "run").string();
  c.quant = "ewgs";
  c.w_bits = c.a_bits = 2;
  c.quant_options = "output_scale=1";
  c.optimizer = "adam";
  c.lr = 0.01;
  c.batch_size = 20;
  c.eval_batch_size = 32;
  c.log_every = 0;
  c.deterministic = true;
  std::ostringstream log;
  TrainResult trained = train(c, log);

  const std::string lbm = (fs::path(c.out) / "model.lbm").string();
  const CliRun exported =
      lowbit_cli("export --checkpoint " + shell_quoted(c.out) + " --out " + shell_quoted(lbm));
  ASSERT_EQ(exported.code, 0) << exported.output;
  EXPECT_THAT(exported.output, HasSubstr("quantize (ewgs u2)  conv2.input"));
  EXPECT_THAT(exported.output, HasSubstr("multibit_conv2d (u2 x s3)  conv2"));
  EXPECT_EQ(last_json_line(exported.output)["multibit_layers"], 3);
  EXPECT_EQ(last_json_line(exported.output)["binary_layers"], 0);
  for (const std::string path : {"auto", "bitserial", "int8"}) {
    const CliRun r = lowbit_cli("infer " + shell_quoted(lbm) + " --data-dir " + shell_quoted(data) +
                                " --batch-size 32 --multibit-path " + path);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("predictions identical on 100 of 100 images")) << path;
    const json line = last_json_line(r.output);
    EXPECT_EQ(line["test_accuracy"].get<double>(), trained.test_accuracy) << path;
    EXPECT_EQ(line["same_predictions"], 100) << path;
    if (path != "auto") {
      EXPECT_THAT(r.output, HasSubstr("multi-bit layer conv2: u2 x s3 on the " + path + " path"));
      EXPECT_EQ(line["multibit_paths"]["fc1"], path);
    }
  }
  const CliRun bad = lowbit_cli("infer " + shell_quoted(lbm) + " --data-dir " + shell_quoted(data) +
                                " --multibit-path fast");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--multibit-path must be auto, bitserial, int8 or shift, got 'fast'"));
}

}  // namespace
}  // namespace lowbit
#endif  // LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
