// The deploy path's link to training runs: a checkpoint's model rebuilt as its run built it (to
// export it, and to compare the deployed model with its training graph), and the export of a
// checkpoint with its origin recorded in the graph.
#pragma once

#include <memory>
#include <string>

#include "core/device.h"
#include "layers/module.h"
#include "tools/deploy/graph.h"
#include "tools/train/config.h"

namespace lowbit::deploy {

// A checkpoint's model rebuilt from the run's settings (tools/train/build.h; the image size is
// the dataset preset's) with the checkpoint's weights, on `device`, in eval mode.
struct CheckpointModel {
  std::shared_ptr<Module> model;
  TrainConfig config;
  int64_t epoch = 0;
};
CheckpointModel load_checkpoint_model(const std::string& checkpoint, Device device = Device::cpu());

// export_model (export.h) of a checkpoint's model, with its source (checkpoint path, epoch,
// quantizer settings, width) recorded in the graph.
Graph export_checkpoint(const std::string& checkpoint);

}  // namespace lowbit::deploy
