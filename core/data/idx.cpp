// IDX (MNIST format) reader: file reading with gzip inflation, header parsing, dataset loading.
#include "core/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;

// Inflates a whole in-memory gzip file (one or more concatenated members).
std::vector<uint8_t> inflate_gzip(const std::string& path, const std::vector<uint8_t>& in) {
  z_stream zs{};
  LOWBIT_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK, path, ": cannot initialise zlib");
  struct Guard {
    z_stream* zs;
    ~Guard() { inflateEnd(zs); }
  } guard{&zs};

  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 16);
  size_t fed = 0;  // bytes of `in` handed to zlib so far
  while (true) {
    if (zs.avail_in == 0 && fed < in.size()) {  // avail_in is 32-bit: feed in chunks
      size_t n = std::min<size_t>(in.size() - fed, size_t{1} << 30);
      zs.next_in = const_cast<Bytef*>(in.data() + fed);
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    int ret = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), buf.data(), buf.data() + (buf.size() - zs.avail_out));
    if (ret == Z_STREAM_END) {
      if (zs.avail_in == 0 && fed == in.size()) break;
      inflateReset(&zs);  // another member follows (or garbage, which inflate then reports)
      continue;
    }
    if (ret == Z_BUF_ERROR && zs.avail_in == 0 && fed == in.size())
      LOWBIT_FAIL(path, ": corrupt gzip data: stream ends early (file truncated?)");
    if (ret != Z_OK) {
      std::string why = zs.msg ? zs.msg : "zlib error " + std::to_string(ret);
      LOWBIT_FAIL(path, ": corrupt gzip data: ", why);
    }
  }
  return out;
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

const char* idx_type_name(int code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

std::string hex_byte(int v) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", v & 0xFF);
  return s;
}

}  // namespace

std::vector<uint8_t> read_file_maybe_gzip(const std::string& path) {
  std::error_code ec;
  LOWBIT_CHECK(!fs::is_directory(path, ec), path, ": cannot open: is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) LOWBIT_FAIL(path, ": cannot open: ", std::strerror(errno));
  f.seekg(0, std::ios::end);
  std::streamoff size = f.tellg();
  LOWBIT_CHECK(size >= 0, path, ": cannot determine file size");
  f.seekg(0, std::ios::beg);
  std::vector<uint8_t> raw(static_cast<size_t>(size));
  f.read(reinterpret_cast<char*>(raw.data()), size);
  LOWBIT_CHECK(f.gcount() == size, path, ": read error: got ", f.gcount(), " of ", size, " bytes");

  if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) return inflate_gzip(path, raw);
  return raw;
}

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_maybe_gzip(path);
  LOWBIT_CHECK(bytes.size() >= 4, path, ": truncated IDX header (", bytes.size(), " bytes)");
  LOWBIT_CHECK(bytes[0] == 0 && bytes[1] == 0, path, ": not an IDX file (bad magic ",
               hex_byte(bytes[0]), " ", hex_byte(bytes[1]), ", expected 0x00 0x00)");
  int type = bytes[2], ndims = bytes[3];
  LOWBIT_CHECK(type == 0x08, path, ": unsupported IDX data type ", hex_byte(type), " (",
               idx_type_name(type), "); only 0x08 (unsigned byte) is supported");
  LOWBIT_CHECK(ndims >= 1 && ndims <= 4, path, ": IDX header has ", ndims,
               " dimensions (expected 1..4)");
  size_t header = 4 + 4 * size_t(ndims);
  LOWBIT_CHECK(bytes.size() >= header, path, ": truncated IDX header (", ndims,
               " dimensions need ", header, " bytes, file has ", bytes.size(), ")");

  IdxArray arr;
  uint64_t expected = 1;  // saturates instead of overflowing
  for (int i = 0; i < ndims; ++i) {
    uint32_t d = read_be32(bytes.data() + 4 + 4 * i);
    arr.dims.push_back(d);
    if (d != 0 && expected > std::numeric_limits<uint64_t>::max() / d)
      expected = std::numeric_limits<uint64_t>::max();
    else
      expected *= d;
  }
  uint64_t found = bytes.size() - header;
  LOWBIT_CHECK(found >= expected, path, ": truncated IDX data: expected ", expected,
               " bytes of data, found ", found);
  LOWBIT_CHECK(found == expected, path, ": trailing garbage: ", found - expected,
               " extra bytes after the expected ", expected, " bytes of data");
  arr.data.assign(bytes.begin() + header, bytes.end());
  return arr;
}

ImageDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                              int num_classes) {
  LOWBIT_CHECK(num_classes >= 1 && num_classes <= 256, "num_classes must be in 1..256, got ",
               num_classes, " (loading ", labels_path, ")");
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  LOWBIT_CHECK(images.dims.size() == 3, images_path, ": expected a 3-d image array, got ",
               images.dims.size(), "-d");
  LOWBIT_CHECK(labels.dims.size() == 1, labels_path, ": expected a 1-d label array, got ",
               labels.dims.size(), "-d");
  LOWBIT_CHECK(images.dims[0] == labels.dims[0], "count mismatch: ", images_path, " has ",
               images.dims[0], " images but ", labels_path, " has ", labels.dims[0], " labels");
  for (size_t i = 0; i < labels.data.size(); ++i)
    LOWBIT_CHECK(labels.data[i] < num_classes, labels_path, ": label ", int(labels.data[i]),
                 " at index ", i, " is out of range (num_classes = ", num_classes, ")");

  ImageDataset ds;
  ds.count = images.dims[0];
  ds.height = images.dims[1];
  ds.width = images.dims[2];
  ds.channels = 1;
  ds.images = std::move(images.data);
  ds.labels = std::move(labels.data);
  return ds;
}

ImageDataset load_mnist_split(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    std::string tried;
    for (const char* suffix : {"", ".gz"}) {
      std::string p = (fs::path(dir) / (stem + suffix)).string();
      std::error_code ec;
      if (fs::is_regular_file(p, ec)) return p;
      tried += (tried.empty() ? "" : ", ") + p;
    }
    LOWBIT_FAIL("MNIST ", train ? "train" : "test", " file not found in ", dir, ": tried ", tried);
  };
  std::string images = find(prefix + "-images-idx3-ubyte");
  std::string labels = find(prefix + "-labels-idx1-ubyte");
  return load_idx_dataset(images, labels);
}

std::string default_fashion_mnist_dir() {
  const char* env = std::getenv("LOWBIT_FASHION_MNIST_DIR");
  if (env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";  // Debian 12 package dataset-fashion-mnist
}

}  // namespace lowbit::data
