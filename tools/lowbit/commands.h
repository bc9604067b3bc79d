// The `lowbit` subcommands. Each add_*_command registers its flags on `app` and returns what to
// run once the command line has been parsed (exit code; lowbit errors propagate to main).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>

namespace lowbit::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_train_command(CLI::App& app);   // train_command.cpp
Command add_eval_command(CLI::App& app);    // eval_command.cpp
Command add_models_command(CLI::App& app);  // main.cpp
Command add_pack_command(CLI::App& app);    // pack_command.cpp
Command add_export_command(CLI::App& app);  // export_command.cpp
Command add_infer_command(CLI::App& app);   // infer_command.cpp
Command add_launch_command(CLI::App& app);  // launch_command.cpp

// A checkpoint file given as itself or as its run folder (final.safetensors, else last.safetensors).
inline std::string checkpoint_file(const std::string& given) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(given)) return given;
  const fs::path final_file = fs::path(given) / "final.safetensors";
  return (fs::exists(final_file) ? final_file : fs::path(given) / "last.safetensors").string();
}

}  // namespace lowbit::cli
