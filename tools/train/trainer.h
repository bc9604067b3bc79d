// The training loop as a library: the `lowbit train` command and users' programs both call
// train(config, log). It builds the data, the model, the optimizer and the schedule from the
// config (tools/train/build.h), trains for config.epochs epochs, evaluates on the test split after
// each one, and, with config.out set, keeps the run folder (tools/train/run_folder.h): config,
// metrics, curves and a checkpoint after every epoch.
//
// Output (to `log`): the effective settings as one JSON line {"settings": {...}}, progress
// (tools/train/progress.h), and per epoch a summary line and its JSON metrics line.
//
// Resuming (config.resume = a run folder): the run continues from its last.safetensors with the
// model, optimizer state, random streams and metrics history of that checkpoint. Settings other
// than those may_change_on_resume() allows must equal the run's. Data order and augmentation are
// functions of (seed, epoch), so with --deterministic (or on the same machine) the resumed run's
// losses equal those of an uninterrupted run, bit for bit.
//
// Data parallel (config.dist, or hooks.communicator; tools/train/data_parallel.h): every rank calls
// train() with the same settings; it trains its share of every batch, and rank 0 alone prints
// and writes the run folder. An error on one rank stops the whole job under MPI (MPI_Abort).
//
// A NaN or infinite loss (or gradient norm, with grad-clip) stops training with an error naming the
// epoch and the step; the run folder keeps the last good checkpoint (written after every epoch,
// and at epoch 0 before training starts).
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dist/communicator.h"
#include "tools/train/build.h"
#include "tools/train/config.h"
#include "tools/train/metrics.h"

namespace lowbit {

struct TrainResult {
  std::vector<EpochMetrics> epochs;  // every finished epoch of the run (a resumed run's earlier ones too)
  double test_accuracy = 0;          // after the last finished epoch, in [0, 1]
  bool completed = false;            // reached config.epochs (false: stopped by after_epoch)
  std::string run_dir;               // config.out
  int rank = 0, world = 1;           // this process in a data-parallel run (0 of 1 otherwise)
};

struct TrainHooks {
  bool progress_bar = false;  // redraw one progress line (for a terminal) instead of printing lines
  // Called after each epoch, once its checkpoint is written; false stops the run there, exactly
  // as if the process had been killed at that point (no final checkpoint).
  std::function<bool(const EpochMetrics&)> after_epoch;
  // The ranks to train with, instead of the one config.dist and the launch environment give
  // (tests run several ranks as threads of one process).
  std::shared_ptr<dist::Communicator> communicator;
};

// Throws lowbit::Error naming the setting for invalid settings, the file for unreadable data or
// a bad checkpoint, and the epoch and step when the loss becomes NaN or infinite.
TrainResult train(const TrainConfig& config, std::ostream& log, const TrainHooks& hooks = {});

// The settings of the run in `run_dir` (from its last.safetensors), for `--resume`.
TrainConfig run_config(const std::string& run_dir);

// Known dataset names and the default data folder of one ("" if it has none).
std::vector<std::string> dataset_names();
std::string default_data_dir(const std::string& dataset);

// {"settings": {...}}: the line train() prints first.
std::string settings_json(const TrainConfig& config);

}  // namespace lowbit
