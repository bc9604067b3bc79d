// Packed datasets: manifest parsing and checks, the shard lookup, and the root dispatch.
#include "core/data/packed_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/data/image_folder.h"
#include "core/error.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_manifest(const std::string& dir, const std::string& where) {
  const std::string path = (fs::path(dir) / kPackedManifest).string();
  std::ifstream in(path, std::ios::binary);
  LOWBIT_CHECK(in.good(), where, ": cannot open ", path);
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    LOWBIT_FAIL(where, ": ", path, " is not valid JSON: ", e.what());
  }
  LOWBIT_CHECK(j.is_object() && j.value("format", "") == kPackedFormat, where, ": ", path,
               " is not a lowbit packed-dataset manifest (format '", kPackedFormat, "')");
  LOWBIT_CHECK(j.value("version", 0) == 1, where, ": manifest version ", j.value("version", 0),
               " (this lowbit reads 1)");
  return j;
}

}  // namespace

bool is_packed_dataset(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kPackedManifest, ec);
}

ShardSource::ShardSource(const std::string& dir, bool train) {
  const std::string split = train ? "train" : "val";
  const std::string where = "packed dataset " + dir;
  description_ = where + " (" + split + ")";
  const json m = read_manifest(dir, where);
  try {
    classes_ = m.at("classes").get<std::vector<std::string>>();
    packed_size_ = m.at("size").get<int64_t>();
    LOWBIT_CHECK(m.at("channels").get<int64_t>() == 3, where, ": channels ", m.at("channels").dump(),
                 " (image datasets are RGB)");
    LOWBIT_CHECK(m.at("splits").contains(split), where, ": has no ", split,
                 " split (packed: ", m.at("splits").dump().substr(0, 200), ")");
    const json& s = m.at("splits").at(split);
    starts_.push_back(0);
    for (const json& shard : s.at("shards")) {
      const std::string path = (fs::path(dir) / shard.at("file").get<std::string>()).string();
      auto file = std::make_unique<ShardFile>(path);
      const ShardSummary& got = file->summary();
      LOWBIT_CHECK(got.count == shard.at("count").get<int64_t>() && got.bytes == shard.at("bytes").get<uint64_t>() &&
                       got.index_crc == shard.at("index_crc").get<uint32_t>() && file->channels() == 3,
                   "corrupt shard ", path, ": it does not match ", where, "/", kPackedManifest, " (", got.count,
                   " records, ", got.bytes, " bytes; the manifest says ", shard.at("count").dump(), " records, ",
                   shard.at("bytes").dump(), " bytes)");
      for (int64_t r = 0; r < file->size(); ++r)
        LOWBIT_CHECK(file->entry(r).label < static_cast<int32_t>(classes_.size()), "corrupt shard ", path, ": record ",
                     r, " has label ", file->entry(r).label, " but there are ", classes_.size(), " classes");
      starts_.push_back(starts_.back() + file->size());
      shards_.push_back(std::move(file));
    }
    LOWBIT_CHECK(starts_.back() == s.at("count").get<int64_t>(), where, ": the ", split, " shards hold ",
                 starts_.back(), " images but the manifest says ", s.at("count").dump());
  } catch (const json::exception& e) {
    LOWBIT_FAIL(where, ": malformed ", kPackedManifest, ": ", e.what());
  }
  LOWBIT_CHECK(!classes_.empty() && size() > 0, where, ": the ", split, " split is empty");
}

std::pair<size_t, int64_t> ShardSource::locate(int64_t i) const {
  LOWBIT_CHECK(i >= 0 && i < size(), description_, ": example ", i, " out of range (", size(), " examples)");
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  const auto s = static_cast<size_t>(it - starts_.begin() - 1);
  return {s, i - starts_[s]};
}

int32_t ShardSource::label(int64_t i) const {
  const auto [s, r] = locate(i);
  return shards_[s]->entry(r).label;
}

std::string ShardSource::name(int64_t i) const {
  const auto [s, r] = locate(i);
  return shards_[s]->path() + " record " + std::to_string(r);
}

Image ShardSource::load(int64_t i) const {
  const auto [s, r] = locate(i);
  return shards_[s]->read(r);
}

std::unique_ptr<ImageSource> open_image_split(const std::string& root, bool train) {
  if (is_packed_dataset(root)) return std::make_unique<ShardSource>(root, train);
  return std::make_unique<FolderSource>(scan_image_folder(image_folder_split(root, train)));
}

}  // namespace lowbit::data
