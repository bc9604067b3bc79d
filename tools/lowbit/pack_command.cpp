// `lowbit pack-dataset`: packs an image folder (ROOT/train/<class>/*.jpg|png, ROOT/val/...) into
// shard files for faster epochs (core/data/pack.h); `--dataset imagenet --data-dir OUT` then
// trains from them. Prints one line per split and one JSON line; skipped images go to stderr.
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/data/pack.h"
#include "tools/lowbit/commands.h"

namespace lowbit::cli {
namespace {

struct PackFlags {
  std::string data_dir, out, bad_images = "skip";
  data::PackOptions options;
};

int run(const PackFlags& f) {
  data::PackOptions o = f.options;
  o.skip_bad = f.bad_images == "skip";
  const std::vector<data::PackedSplit> splits = data::pack_dataset(f.data_dir, f.out, o);
  nlohmann::json j = {{"out", f.out}, {"size", o.size}, {"splits", nlohmann::json::object()}};
  for (const data::PackedSplit& s : splits) {
    std::cout << s.name << ": " << s.images << " images in " << s.shards << " shards (" << s.bytes << " bytes), "
              << s.skipped.size() << " skipped\n";
    j["splits"][s.name] = {
        {"images", s.images}, {"shards", s.shards}, {"bytes", s.bytes}, {"skipped", s.skipped.size()}};
  }
  std::cout << j.dump() << std::endl;
  return 0;
}

}  // namespace

Command add_pack_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("pack-dataset", "pack an image folder into shard files for faster epochs");
  auto f = std::make_shared<PackFlags>();
  cmd->add_option("--data-dir", f->data_dir, "image folder: ROOT/train/<class>/*.jpg|jpeg|png and ROOT/val/...")
      ->required();
  cmd->add_option("--out", f->out, "folder for the shards and manifest.json (created if needed)")->required();
  cmd->add_option("--size", f->options.size,
                  "shorter side of the stored images, resized as Resize(size) (0: keep the decoded size)")
      ->capture_default_str();
  cmd->add_option("--images-per-shard", f->options.images_per_shard, "images per shard file")->capture_default_str();
  cmd->add_option("--threads", f->options.threads, "decoding threads (0: every core)")->capture_default_str();
  cmd->add_option("--bad-images", f->bad_images,
                  "images that cannot be decoded are skipped (reported on stderr) or refused (packing stops)")
      ->check(CLI::IsMember({"skip", "refuse"}))
      ->capture_default_str();
  return {cmd, [f] { return run(*f); }};
}

}  // namespace lowbit::cli
