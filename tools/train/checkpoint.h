// Training checkpoints: everything needed to resume a run exactly, in one safetensors file.
//   tensors   "model.NAME" (parameters and buffers) and "optim.NAME" (optimizer state tensors)
//   metadata  key "lowbit": a JSON document
//             {"format": "lowbit-checkpoint", "version": 1, "model": NAME, "epoch": N,
//              "config": {...}, "optimizer": {...}, "rng": {"seed", "stream", "epoch"},
//              "metrics": ...}
// The struct holds plain maps and JSON so that it does not depend on Module or Optimizer; the
// trainer copies state in and out. Files are written atomically (core/io/atomic_file.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/io/safetensors.h"

namespace lowbit {

inline constexpr int64_t kCheckpointVersion = 1;

// Where the random streams stand: the Generator's seed and next stream (dropout, augmentation)
// and the data loader's epoch (its shuffle order is a function of seed and epoch).
struct RngState {
  uint64_t seed = 0;
  uint64_t stream = 0;
  int64_t epoch = 0;
};

struct Checkpoint {
  std::string model;                    // model name, as the zoo builds it
  int64_t epoch = 0;                    // completed epochs
  nlohmann::json config = nlohmann::json::object();     // the training configuration
  io::NamedTensors model_state;         // parameters and buffers, without the "model." prefix
  io::NamedTensors optimizer_state;     // optimizer tensors, without the "optim." prefix
  nlohmann::json optimizer = nlohmann::json::object();  // optimizer scalars (step, settings, ...)
  RngState rng;
  nlohmann::json metrics = nlohmann::json::object();    // e.g. the last epoch's metrics
  // The second optimizer of a quantized run (its quantizer parameters); null when there is none.
  io::NamedTensors quant_optimizer_state;
  nlohmann::json quant_optimizer;
};

// Writes the checkpoint atomically. Throws lowbit::Error for a non-object config/optimizer, an
// empty model name, a negative epoch, and anything save_safetensors refuses.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads and validates a checkpoint. Errors read "checkpoint PATH: missing field 'epoch'",
// "checkpoint PATH: format version 2 is newer than this lowbit (1)", and so on; file-level
// corruption is reported by load_safetensors.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace lowbit
