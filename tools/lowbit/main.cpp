// `lowbit`: the command-line tool. Subcommands: train (train_command.cpp), eval
// (eval_command.cpp), export (export_command.cpp), infer (infer_command.cpp), pack-dataset
// (pack_command.cpp), launch (launch_command.cpp), models (below).
// Exit codes: 0 success, 1 a lowbit error (message on stderr), CLI11's codes for bad flags.
#include <algorithm>
#include <exception>
#include <iostream>

#include "models/registry.h"
#include "tools/lowbit/commands.h"

namespace lowbit::cli {

Command add_models_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("models", "list the models that train --model accepts");
  return {cmd, [] {
            size_t width = 0;
            for (const auto& name : model_names()) width = std::max(width, name.size());
            for (const auto& name : model_names())
              std::cout << name << std::string(width + 2 - name.size(), ' ') << model_description(name) << "\n";
            return 0;
          }};
}

}  // namespace lowbit::cli

int main(int argc, char** argv) {
  CLI::App app{"lowbit: train and run low-bit neural networks"};
  app.require_subcommand(1);
  const lowbit::cli::Command commands[] = {lowbit::cli::add_train_command(app), lowbit::cli::add_eval_command(app),
                                           lowbit::cli::add_export_command(app), lowbit::cli::add_infer_command(app),
                                           lowbit::cli::add_pack_command(app), lowbit::cli::add_launch_command(app),
                                           lowbit::cli::add_models_command(app)};
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run();
  } catch (const std::exception& e) {
    std::cerr << "lowbit: error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
