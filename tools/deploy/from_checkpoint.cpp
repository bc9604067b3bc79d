// Checkpoint -> model (as its run built it) and checkpoint -> deploy graph.
#include "tools/deploy/from_checkpoint.h"

#include "core/data/presets.h"
#include "tools/deploy/export.h"
#include "tools/train/build.h"
#include "tools/train/checkpoint.h"
#include "tools/train/train_state.h"

namespace lowbit::deploy {

CheckpointModel load_checkpoint_model(const std::string& path, Device device) {
  const std::string where = "checkpoint " + path;
  Checkpoint ckpt = load_checkpoint(path);
  CheckpointModel r;
  r.config = config_from_json(ckpt.config, where);
  r.epoch = ckpt.epoch;
  RunData data;
  data.preset = &data::find_dataset(r.config.dataset);
  data.channels = data.preset->channels;
  data.height = data.preset->height;
  data.width = data.preset->width;
  data.num_classes = data.preset->num_classes;
  Generator gen(r.config.seed);
  r.model = build_model(r.config, data, device, gen);
  restore_model(ckpt, *r.model, where);
  r.model->eval();
  return r;
}

Graph export_checkpoint(const std::string& path) {
  CheckpointModel m = load_checkpoint_model(path);
  const data::DatasetPreset& preset = data::find_dataset(m.config.dataset);
  ExportInfo info{m.config.model, m.config.dataset, preset.channels, preset.height, preset.width,
                  preset.num_classes};
  info.source = {{"checkpoint", path},
                 {"epoch", m.epoch},
                 {"quant", m.config.quant},
                 {"w_bits", m.config.w_bits},
                 {"a_bits", m.config.a_bits},
                 {"width_mult", m.config.width_mult}};
  return export_model(*m.model, info);
}

}  // namespace lowbit::deploy
