// `lowbit eval`: test loss and accuracy of a checkpoint (a .safetensors file, or a run folder:
// its final.safetensors, else its last.safetensors), evaluated as its run evaluated it unless
// flags say otherwise. Prints one human line and one JSON line.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/lowbit/commands.h"
#include "tools/train/evaluate.h"

namespace lowbit::cli {
namespace {

int run(const EvalConfig& given) {
  EvalConfig e = given;
  e.checkpoint = checkpoint_file(e.checkpoint);
  CheckpointEval r = evaluate_checkpoint(e);
  std::cout << std::fixed << "checkpoint " << e.checkpoint << " (" << r.config.model << ", epoch " << r.epoch
            << "): test loss " << std::setprecision(4) << r.result.loss << " accuracy " << std::setprecision(2)
            << 100.0 * r.result.accuracy << "% (" << r.result.examples << " " << r.config.dataset << " test images)\n";
  std::cout << nlohmann::json{{"checkpoint", e.checkpoint}, {"model", r.config.model},   {"epoch", r.epoch},
                              {"dataset", r.config.dataset}, {"test_loss", r.result.loss},
                              {"test_accuracy", r.result.accuracy}, {"examples", r.result.examples}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval", "test loss and accuracy of a checkpoint");
  auto e = std::make_shared<EvalConfig>();
  cmd->add_option("--checkpoint", e->checkpoint,
                  "a checkpoint file, or a run folder (its final.safetensors, else last.safetensors)")
      ->required();
  cmd->add_option("--dataset", e->dataset, "dataset (default: the run's)");
  cmd->add_option("--data-dir", e->data_dir, "folder with the dataset's files (default: the run's)");
  cmd->add_option("--batch-size", e->batch_size, "examples per batch (default: the run's eval-batch-size)");
  cmd->add_option("--limit-test", e->limit_test, "first N test examples only, 0: all (default: the run's)");
  cmd->add_option("--device", e->device, "cpu, cuda, cuda:N or auto (default: the run's)");
  return {cmd, [e] { return run(*e); }};
}

}  // namespace lowbit::cli
