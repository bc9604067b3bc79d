// Run folder layout, creation checks and the atomic writes of its text files.
#include "tools/train/run_folder.h"

#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace lowbit {

namespace fs = std::filesystem;

std::string RunFolder::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

void RunFolder::prepare(bool resuming) const {
  LOWBIT_CHECK(!dir_.empty(), "run folder: no folder given");
  if (resuming) {
    LOWBIT_CHECK(fs::exists(last_checkpoint()), "resume: ", dir_, " holds no last.safetensors (not a run folder, or ",
                 "the run never started)");
    return;
  }
  LOWBIT_CHECK(!fs::exists(last_checkpoint()), "train: ", dir_,
               " already holds a run (last.safetensors); continue it with --resume ", dir_,
               " or choose another --out");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  LOWBIT_CHECK(!ec, "train: cannot create the run folder ", dir_, ": ", ec.message());
  LOWBIT_CHECK(fs::is_directory(dir_), "train: ", dir_, " is not a folder");
}

void RunFolder::write_config(const nlohmann::json& config) const {
  io::write_file_atomically(file("config.json"), config.dump(2) + "\n");
}

void RunFolder::write_metrics(const std::vector<EpochMetrics>& history, const std::string& title) const {
  io::write_file_atomically(file("metrics.jsonl"), metrics_jsonl(history));
  io::write_file_atomically(file("curves.svg"), training_curves_svg(history, title));
}

std::string default_run_dir(const std::string& model, const std::string& dataset) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  const std::string base = (fs::path("runs") / (model + "-" + dataset + "-" + stamp)).string();
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  return dir;
}

}  // namespace lowbit
