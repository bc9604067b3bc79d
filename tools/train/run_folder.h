// A run folder (`lowbit train --out DIR`) and the files in it, each written atomically
// (core/io/atomic_file.h), so a crash leaves the previous complete version:
//   config.json        the effective settings (the same JSON `--config` reads)
//   metrics.jsonl      one JSON line of EpochMetrics per finished epoch
//   curves.svg         loss and accuracy per epoch
//   last.safetensors   checkpoint after the latest epoch (epoch 0: the initial weights)
//   final.safetensors  checkpoint at the end of the run
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/train/metrics.h"

namespace lowbit {

class RunFolder {
 public:
  explicit RunFolder(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string file(const std::string& name) const;  // DIR/name
  std::string last_checkpoint() const { return file("last.safetensors"); }
  std::string final_checkpoint() const { return file("final.safetensors"); }

  // Creates the folder (and its parents). A fresh run refuses a folder that already holds a run
  // (a last.safetensors), pointing at --resume; a resumed run needs that file.
  void prepare(bool resuming) const;
  void write_config(const nlohmann::json& config) const;
  void write_metrics(const std::vector<EpochMetrics>& history, const std::string& title) const;

 private:
  std::string dir_;
};

// runs/<model>-<dataset>-<YYYYmmdd-HHMMSS> (local time), with -2, -3, ... appended when that
// folder exists already.
std::string default_run_dir(const std::string& model, const std::string& dataset);

}  // namespace lowbit
