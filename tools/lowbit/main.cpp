// `lowbit`: the command-line tool. Subcommands: train (tools/train/trainer.h), models.
// Exit codes: 0 success, 1 a lowbit error (message on stderr), CLI11's codes for bad flags.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "models/registry.h"
#include "tools/train/trainer.h"

namespace {

// Accepts numbers >= lo (CLI11's own range checks print the type's whole range).
CLI::Validator at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        if (v >= lo) return "";
        std::ostringstream msg;
        msg << "must be >= " << lo << ", got " << s;
        return msg.str();
      },
      "");
}

void add_train_flags(CLI::App& cmd, lowbit::TrainConfig& c) {
  std::string models_list, datasets_list;
  for (const auto& n : lowbit::model_names()) models_list += (models_list.empty() ? "" : ", ") + n;
  for (const auto& n : lowbit::dataset_names()) datasets_list += (datasets_list.empty() ? "" : ", ") + n;
  cmd.add_option("--model", c.model, "model to train (" + models_list + ")")->capture_default_str();
  cmd.add_option("--dataset", c.dataset, "dataset (" + datasets_list + ")")->capture_default_str();
  cmd.add_option("--data-dir", c.data_dir, "folder with the dataset's files (default: the dataset's own)")
      ->default_str(lowbit::default_data_dir(c.dataset));
  cmd.add_option("--epochs", c.epochs, "training epochs (>= 1)")->check(at_least(1))->capture_default_str();
  cmd.add_option("--batch-size", c.batch_size, "examples per step (>= 1)")->check(at_least(1))->capture_default_str();
  cmd.add_option("--lr", c.lr, "learning rate")->check(at_least(0))->capture_default_str();
  cmd.add_option("--momentum", c.momentum, "SGD momentum")->check(at_least(0))->capture_default_str();
  cmd.add_option("--weight-decay", c.weight_decay, "L2 weight decay")->check(at_least(0))->capture_default_str();
  cmd.add_option("--schedule", c.schedule, "learning-rate schedule: constant, or cosine (per step, to 0 at the end)")
      ->check(CLI::IsMember({"constant", "cosine"}))
      ->capture_default_str();
  cmd.add_option("--seed", c.seed, "seed of the weights and the data order")->capture_default_str();
  cmd.add_option("--device", c.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd.add_option("--hidden", c.hidden, "hidden layer widths of the mlp, e.g. 256,128 (each >= 1)")
      ->delimiter(',')
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--log-every", c.log_every, "steps between progress lines (0: none)")
      ->check(at_least(0))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lowbit: train and run low-bit neural networks"};
  app.require_subcommand(1);

  lowbit::TrainConfig config;
  CLI::App* train_cmd = app.add_subcommand("train", "train a model and report its test accuracy");
  add_train_flags(*train_cmd, config);
  CLI::App* models_cmd = app.add_subcommand("models", "list the models that train --model accepts");

  CLI11_PARSE(app, argc, argv);
  try {
    if (train_cmd->parsed()) {
      lowbit::TrainResult r = lowbit::train(config, std::cout);
      std::cout << "test accuracy " << 100.0 * r.test_accuracy << "%" << std::endl;
    } else if (models_cmd->parsed()) {
      for (const auto& name : lowbit::model_names()) std::cout << name << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "lowbit: error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
