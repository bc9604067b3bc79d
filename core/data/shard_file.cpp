// Shard file writing and reading (layout in shard_file.h).
#include "core/data/shard_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace lowbit::data {
namespace {

constexpr char kHeadMagic[8] = {'L', 'B', 'S', 'H', 'A', 'R', 'D', '1'};
constexpr char kFootMagic[8] = {'L', 'B', 'S', 'H', 'E', 'N', 'D', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeadBytes = 16, kEntryBytes = 32, kFootBytes = 32;

uint32_t crc_of(const uint8_t* p, uint64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes 32-bit lengths
    const auto chunk = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// Reads exactly n bytes at offset; false on a short read (errno set on an error).
bool read_at(int fd, uint8_t* dst, uint64_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    dst += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

ShardSummary write_shard(const std::string& path, int64_t channels, const std::function<bool(Image&, int32_t&)>& next) {
  LOWBIT_CHECK(channels >= 1 && channels <= 4, "write_shard ", path, ": channels must be 1..4, got ", channels);
  ShardSummary summary;
  io::write_file_atomically(path, [&](io::FileSink& sink) {
    std::vector<uint8_t> head(kHeadMagic, kHeadMagic + 8);
    put32(head, kVersion);
    put32(head, static_cast<uint32_t>(channels));
    sink.write(head.data(), head.size());
    std::vector<uint8_t> index;
    uint64_t offset = kHeadBytes;
    Image image;
    int32_t label = 0;
    int64_t count = 0;
    while (next(image, label)) {
      LOWBIT_CHECK(image.channels == channels && image.height >= 1 && image.width >= 1 && image.height <= UINT32_MAX &&
                       image.width <= UINT32_MAX && label >= 0 &&
                       image.pixels.size() == static_cast<size_t>(image.height * image.width * channels),
                   "write_shard ", path, ": record ", count, " is not a ", channels,
                   "-channel image with a label >= 0");
      const uint64_t n = image.pixels.size();
      LOWBIT_CHECK(n <= UINT32_MAX, "write_shard ", path, ": record ", count, " is larger than 4 GiB");
      sink.write(image.pixels.data(), n);
      put64(index, offset);
      put32(index, static_cast<uint32_t>(image.height));
      put32(index, static_cast<uint32_t>(image.width));
      put32(index, static_cast<uint32_t>(label));
      put32(index, crc_of(image.pixels.data(), n));
      put32(index, static_cast<uint32_t>(n));
      put32(index, 0);  // encoding: raw
      offset += n;
      ++count;
    }
    sink.write(index.data(), index.size());
    std::vector<uint8_t> foot;
    put64(foot, static_cast<uint64_t>(count));
    put64(foot, offset);
    summary.index_crc = crc_of(index.data(), index.size());
    put32(foot, summary.index_crc);
    put32(foot, crc_of(foot.data(), 20));
    foot.insert(foot.end(), kFootMagic, kFootMagic + 8);
    sink.write(foot.data(), foot.size());
    summary.count = count;
    summary.bytes = offset + index.size() + kFootBytes;
  });
  return summary;
}

ShardFile::ShardFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) LOWBIT_FAIL("shard ", path, ": cannot open: ", std::strerror(errno));
  try {
    struct stat st {};
    LOWBIT_CHECK(::fstat(fd_, &st) == 0, "shard ", path, ": cannot stat: ", std::strerror(errno));
    const auto file_bytes = static_cast<uint64_t>(st.st_size);
    const std::string bad = "corrupt shard " + path + ": ";
    LOWBIT_CHECK(file_bytes >= kHeadBytes + kFootBytes, bad, "only ", file_bytes, " bytes (truncated?)");
    uint8_t head[kHeadBytes], foot[kFootBytes];
    LOWBIT_CHECK(read_at(fd_, head, kHeadBytes, 0) && read_at(fd_, foot, kFootBytes, file_bytes - kFootBytes), "shard ",
                 path, ": read error: ", std::strerror(errno));
    LOWBIT_CHECK(std::memcmp(head, kHeadMagic, 8) == 0, bad, "not a lowbit shard (bad magic)");
    LOWBIT_CHECK(get32(head + 8) == kVersion, bad, "format version ", get32(head + 8), " (this lowbit reads ", kVersion,
                 ")");
    channels_ = get32(head + 12);
    LOWBIT_CHECK(channels_ >= 1 && channels_ <= 4, bad, "channels ", channels_);
    LOWBIT_CHECK(std::memcmp(foot + 24, kFootMagic, 8) == 0, bad, "no end marker (truncated or overwritten)");
    LOWBIT_CHECK(crc_of(foot, 20) == get32(foot + 20), bad, "footer checksum mismatch");
    const uint64_t count = get64(foot), index_offset = get64(foot + 8);
    LOWBIT_CHECK(index_offset >= kHeadBytes && count <= (file_bytes - kFootBytes) / kEntryBytes &&
                     index_offset + count * kEntryBytes + kFootBytes == file_bytes,
                 bad, "the footer's count ", count, " and index offset ", index_offset, " do not fit the ", file_bytes,
                 "-byte file");
    std::vector<uint8_t> index(count * kEntryBytes);
    LOWBIT_CHECK(read_at(fd_, index.data(), index.size(), index_offset), "shard ", path,
                 ": read error: ", std::strerror(errno));
    summary_.index_crc = crc_of(index.data(), index.size());
    LOWBIT_CHECK(summary_.index_crc == get32(foot + 16), bad, "index checksum mismatch");
    summary_.count = static_cast<int64_t>(count);
    summary_.bytes = file_bytes;
    entries_.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      const uint8_t* p = index.data() + i * kEntryBytes;
      ShardEntry& e = entries_[i];
      e.offset = get64(p);
      e.height = get32(p + 8);
      e.width = get32(p + 12);
      e.label = static_cast<int32_t>(get32(p + 16));
      e.crc = get32(p + 20);
      e.bytes = get32(p + 24);
      const uint32_t encoding = get32(p + 28);
      LOWBIT_CHECK(encoding == 0, bad, "record ", i, " has encoding ", encoding, " (only 0, raw, is known)");
      const uint64_t pixels = static_cast<uint64_t>(e.height) * static_cast<uint64_t>(e.width);
      LOWBIT_CHECK(e.height >= 1 && e.width >= 1 && e.label >= 0 && pixels <= kMaxImagePixels &&
                       e.bytes == pixels * static_cast<uint64_t>(channels_) && e.offset >= kHeadBytes &&
                       e.offset <= index_offset && e.bytes <= index_offset - e.offset,
                   bad, "record ", i, " (", e.height, "x", e.width, ", ", e.bytes, " bytes at ", e.offset,
                   ") does not fit the file");
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ShardFile::~ShardFile() {
  if (fd_ >= 0) ::close(fd_);
}

Image ShardFile::read(int64_t i) const {
  LOWBIT_CHECK(i >= 0 && i < size(), "shard ", path_, ": record ", i, " out of range (", size(), " records)");
  const ShardEntry& e = entry(i);
  Image image;
  image.height = e.height;
  image.width = e.width;
  image.channels = channels_;
  image.pixels.resize(e.bytes);
  errno = 0;
  if (!read_at(fd_, image.pixels.data(), e.bytes, e.offset))
    LOWBIT_FAIL(path_, " record ", i, ": ", errno ? std::strerror(errno) : "the file ends early (truncated)");
  LOWBIT_CHECK(crc_of(image.pixels.data(), e.bytes) == e.crc, path_, " record ", i,
               ": checksum mismatch (corrupt shard)");
  return image;
}

}  // namespace lowbit::data
