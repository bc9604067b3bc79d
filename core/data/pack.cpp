// pack_dataset: scan, decode + resize in parallel chunks, shard writing, then the manifest.
#include "core/data/pack.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/data/image_folder.h"
#include "core/data/image_transform.h"
#include "core/data/packed_dataset.h"
#include "core/data/shard_file.h"
#include "core/data/thread_pool.h"
#include "core/error.h"
#include "core/io/atomic_file.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The stored form of one image: decoded, then resized to the shorter side `size` (0: unchanged).
Image stored_image(const std::string& path, int64_t size) {
  Image img = read_image(path);
  if (size <= 0) return img;
  const auto [h, w] = resized_size(img.height, img.width, size);
  if (h == img.height && w == img.width) return img;
  Image out;
  out.height = h;
  out.width = w;
  out.channels = img.channels;
  out.pixels.resize(static_cast<size_t>(h * w * img.channels));
  resize_bilinear(img.pixels.data(), img.height, img.width, img.channels, {0, 0, img.height, img.width}, h, w,
                  {0, 0, h, w}, out.pixels.data());
  return out;
}

std::string shard_name(const std::string& split, int64_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%05lld.lbshard", static_cast<long long>(s));
  return split + buf;
}

struct Decoded {
  std::optional<Image> image;
  std::string error;
};

json pack_split(const ImageFolderIndex& index, const std::string& split, const std::string& out_dir,
                const PackOptions& o, ThreadPool& pool, PackedSplit& result) {
  const auto n = static_cast<int64_t>(index.paths.size());
  const int64_t chunk = pool.threads() * 4;
  json shards = json::array();
  for (int64_t first = 0; first < n; first += o.images_per_shard) {
    const int64_t last = std::min(n, first + o.images_per_shard);
    const std::string file = shard_name(split, result.shards);
    std::vector<Decoded> ready;
    int64_t ready_from = first, next = first;  // `ready` holds images ready_from ..
    auto produce = [&](Image& image, int32_t& label) {
      while (next < last) {
        if (next - ready_from >= static_cast<int64_t>(ready.size())) {  // decode the next chunk in parallel
          ready_from = next;
          ready.assign(static_cast<size_t>(std::min(chunk, last - next)), Decoded{});
          pool.run(static_cast<int64_t>(ready.size()), [&](int64_t k) {
            Decoded& d = ready[static_cast<size_t>(k)];
            try {
              d.image = stored_image(index.paths[static_cast<size_t>(ready_from + k)], o.size);
            } catch (const Error& e) {
              d.error = e.what();
            }
          });
        }
        Decoded& d = ready[static_cast<size_t>(next - ready_from)];
        const int64_t i = next++;
        if (d.image) {
          image = std::move(*d.image);
          d.image.reset();
          label = index.labels[static_cast<size_t>(i)];
          return true;
        }
        LOWBIT_CHECK(o.skip_bad, "pack-dataset: ", d.error);
        result.skipped.push_back(d.error);
        if (o.report)
          o.report("pack-dataset: skipped " + d.error);
        else
          std::cerr << "pack-dataset: skipped " << d.error << std::endl;
      }
      return false;
    };
    const ShardSummary s = write_shard((fs::path(out_dir) / file).string(), 3, produce);
    shards.push_back({{"file", file}, {"count", s.count}, {"bytes", s.bytes}, {"index_crc", s.index_crc}});
    result.images += s.count;
    result.bytes += s.bytes;
    ++result.shards;
  }
  LOWBIT_CHECK(result.images > 0, "pack-dataset: no image of ", index.dir, " could be decoded");
  return {{"count", result.images}, {"shards", shards}};
}

}  // namespace

std::vector<PackedSplit> pack_dataset(const std::string& root, const std::string& out_dir, const PackOptions& o) {
  LOWBIT_CHECK(o.size >= 0, "pack-dataset: size must be >= 0 (0: keep the decoded size), got ", o.size);
  LOWBIT_CHECK(o.images_per_shard >= 1, "pack-dataset: images-per-shard must be >= 1, got ", o.images_per_shard);
  LOWBIT_CHECK(o.threads >= 0, "pack-dataset: threads must be >= 0 (0: every core), got ", o.threads);
  LOWBIT_CHECK(!is_packed_dataset(root), "pack-dataset: ", root, " is already a packed dataset");
  std::vector<std::pair<std::string, ImageFolderIndex>> splits;
  for (bool train : {true, false}) {
    const std::string dir = image_folder_split(root, train);
    std::error_code ec;
    if (fs::is_directory(dir, ec)) splits.emplace_back(train ? "train" : "val", scan_image_folder(dir));
  }
  LOWBIT_CHECK(!splits.empty(), "pack-dataset: ", root, " has neither a train nor a val folder (expected ",
               image_folder_split(root, true), "/<class>/*.jpg)");
  const std::vector<std::string>& classes = splits.front().second.classes;
  for (const auto& [name, index] : splits)
    LOWBIT_CHECK(index.classes == classes, "pack-dataset: ", index.dir, " has ", index.classes.size(),
                 " classes that differ from the ", classes.size(), " of ", splits.front().second.dir);

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  LOWBIT_CHECK(!ec, "pack-dataset: cannot create ", out_dir, ": ", ec.message());
  const fs::path manifest = fs::path(out_dir) / kPackedManifest;
  fs::remove(manifest, ec);  // from here until the end, the folder is not a complete dataset
  LOWBIT_CHECK(!ec, "pack-dataset: cannot remove the old ", manifest.string(), ": ", ec.message());

  ThreadPool pool(o.threads == 0 ? default_thread_count() : o.threads);
  json m = {{"format", kPackedFormat}, {"version", 1},       {"size", o.size},
            {"channels", 3},           {"classes", classes}, {"splits", json::object()}};
  std::vector<PackedSplit> results;
  for (const auto& [name, index] : splits) {
    PackedSplit r;
    r.name = name;
    m["splits"][name] = pack_split(index, name, out_dir, o, pool, r);
    results.push_back(std::move(r));
  }
  io::write_file_atomically(manifest.string(), m.dump(1) + "\n");
  return results;
}

}  // namespace lowbit::data
