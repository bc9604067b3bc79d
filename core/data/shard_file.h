// Shard files of a packed image dataset (`lowbit pack-dataset`, pack.h): many decoded images in
// one file with an index and CRC-32 checksums (zlib's crc32). Layout, little-endian:
//   head    16 bytes: "LBSHARD1", u32 version (1), u32 channels
//   records the images one after another, each stored as given by its index entry
//   index   count entries of 32 bytes: u64 offset, u32 height, u32 width, u32 label,
//           u32 CRC-32 of the stored bytes, u32 stored bytes, u32 encoding (0: raw NHWC u8,
//           height * width * channels bytes; no other encoding yet)
//   footer  32 bytes: u64 count, u64 index offset, u32 CRC-32 of the index, u32 CRC-32 of the
//           footer's first 20 bytes, "LBSHEND1"
// A shard is written through io::write_file_atomically (never seen half-written). Opening one
// checks the head, the footer, the index checksum and every entry's bounds against the file size,
// and refuses anything else with "corrupt shard PATH: ..."; each record's checksum is checked when
// it is read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/data/image_decode.h"
#include "core/export.h"

namespace lowbit::data {

struct ShardEntry {
  uint64_t offset = 0;
  int64_t height = 0, width = 0;
  int32_t label = 0;
  uint32_t crc = 0;
  uint64_t bytes = 0;
};

struct ShardSummary {
  int64_t count = 0;
  uint64_t bytes = 0;      // file size
  uint32_t index_crc = 0;  // ties the file to a manifest
};

// Writes `path` atomically from the images next() hands out (it fills the image and label and
// returns true, or returns false after the last). Every image must have `channels` channels.
LOWBIT_API ShardSummary write_shard(const std::string& path, int64_t channels,
                                    const std::function<bool(Image&, int32_t&)>& next);

// A shard opened for reading; reads are thread-safe (pread).
class LOWBIT_API ShardFile {
 public:
  explicit ShardFile(const std::string& path);  // throws "corrupt shard PATH: ..." or a read error
  ~ShardFile();
  ShardFile(const ShardFile&) = delete;
  ShardFile& operator=(const ShardFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  int64_t channels() const { return channels_; }
  const ShardEntry& entry(int64_t i) const { return entries_[static_cast<size_t>(i)]; }
  const ShardSummary& summary() const { return summary_; }
  // Record i's image; throws "PATH record i: ..." on a read error or a checksum mismatch.
  Image read(int64_t i) const;

 private:
  std::string path_;
  int fd_ = -1;
  int64_t channels_ = 0;
  std::vector<ShardEntry> entries_;
  ShardSummary summary_;
};

}  // namespace lowbit::data
