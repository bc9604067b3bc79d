// The `lowbit` subcommands. Each add_*_command registers its flags on `app` and returns what to
// run once the command line has been parsed (exit code; lowbit errors propagate to main).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lowbit::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_train_command(CLI::App& app);   // train_command.cpp
Command add_eval_command(CLI::App& app);    // eval_command.cpp
Command add_models_command(CLI::App& app);  // main.cpp

}  // namespace lowbit::cli
