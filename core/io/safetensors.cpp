// safetensors writer and validating reader (format in safetensors.h). The header is built and
// parsed with nlohmann::ordered_json, so tensors keep their order; a parser callback refuses
// duplicate keys, which plain JSON parsing would silently merge.
#include "core/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/io/atomic_file.h"

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace lowbit::io {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // Hugging Face's limit too

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypes[] = {{DType::f32, "F32"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
                                 {DType::i8, "I8"},   {DType::i32, "I32"}, {DType::u8, "U8"}};

// ---------------------------------------------------------------- header parsing

// One tensor entry of a header, validated against itself (not yet against the others).
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

std::string range_str(uint64_t begin, uint64_t end) { return detail::cat("[", begin, ", ", end, "]"); }

// The header as an ordered JSON object; refuses malformed JSON and duplicate keys at any depth.
Json parse_header(const std::string& path, const std::string& text) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    else if (event == Json::parse_event_t::object_end) keys.pop_back();
    else if (event == Json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  // nlohmann stops at a NUL byte as if the input ended there; JSON has no raw NULs.
  size_t nul = text.find('\0');
  LOWBIT_CHECK(nul == std::string::npos, "safetensors file ", path,
               ": header is not valid JSON: it holds a NUL byte at header offset ", nul);
  Json header;
  try {
    header = Json::parse(text, callback);
  } catch (const Json::exception& e) {
    LOWBIT_FAIL("safetensors file ", path, ": header is not valid JSON: ", e.what());
  }
  LOWBIT_CHECK(duplicate.empty(), "safetensors file ", path, ": header has the key '", duplicate, "' twice");
  LOWBIT_CHECK(header.is_object(), "safetensors file ", path, ": header is a JSON ", header.type_name(),
               ", not an object");
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const Json& j) {
  LOWBIT_CHECK(j.is_object(), "safetensors file ", path, ": __metadata__ is a JSON ", j.type_name(),
               ", not an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : j.items()) {
    LOWBIT_CHECK(value.is_string(), "safetensors file ", path, ": __metadata__ entry '", key, "' is a JSON ",
                 value.type_name(), ", not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

uint64_t get_unsigned(const std::string& path, const std::string& name, const char* field, const Json& v) {
  LOWBIT_CHECK(v.is_number_unsigned(), "safetensors file ", path, ": tensor '", name, "': ", field,
               " holds ", v.dump(), ", not a non-negative integer");
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const Json& j) {
  const std::string where = "safetensors file " + path + ": tensor '" + name + "'";
  LOWBIT_CHECK(j.is_object(), where, ": entry is a JSON ", j.type_name(), ", not an object");
  for (const auto& [key, value] : j.items())
    LOWBIT_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", where, ": unexpected field '", key,
                 "' (expected dtype, shape, data_offsets)");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    LOWBIT_CHECK(j.contains(key), where, ": missing field '", key, "'");

  Entry e{name, DType::f32, {}, 0, 0};
  const Json& dt = j["dtype"];
  LOWBIT_CHECK(dt.is_string(), where, ": dtype is a JSON ", dt.type_name(), ", not a string");
  const DTypeName* found = nullptr;
  for (const DTypeName& d : kDTypes)
    if (dt.get<std::string>() == d.name) found = &d;
  LOWBIT_CHECK(found, where, ": unknown dtype '", dt.get<std::string>(),
               "' (lowbit reads F32, F16, BF16, I8, I32, U8)");
  e.dtype = found->dtype;

  const Json& shape = j["shape"];
  LOWBIT_CHECK(shape.is_array(), where, ": shape is a JSON ", shape.type_name(), ", not an array");
  uint64_t numel = 1;
  for (const Json& d : shape) {
    uint64_t n = get_unsigned(path, name, "shape", d);
    LOWBIT_CHECK(n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) &&
                     !__builtin_mul_overflow(numel, n, &numel),
                 where, ": shape ", shape.dump(), " is too large");
    e.shape.push_back(static_cast<int64_t>(n));
  }

  const Json& offsets = j["data_offsets"];
  LOWBIT_CHECK(offsets.is_array() && offsets.size() == 2, where, ": data_offsets is ", offsets.dump(),
               ", not [begin, end]");
  e.begin = get_unsigned(path, name, "data_offsets", offsets[0]);
  e.end = get_unsigned(path, name, "data_offsets", offsets[1]);
  LOWBIT_CHECK(e.begin <= e.end, where, ": data_offsets ", range_str(e.begin, e.end), " end before they begin");

  uint64_t elem = static_cast<uint64_t>(dtype_info(e.dtype).block_bytes), bytes = 0;
  LOWBIT_CHECK(!__builtin_mul_overflow(numel, elem, &bytes), where, ": shape ", shape.dump(), " is too large");
  LOWBIT_CHECK(e.end - e.begin == bytes, where, ": data_offsets ", range_str(e.begin, e.end), " hold ",
               e.end - e.begin, " bytes but ", found->name, " ", shape_str(e.shape), " needs ", bytes);
  return e;
}

// The tensors must tile [0, buffer_bytes) exactly: in offset order, each begins where the
// previous one ended (empty tensors take no room).
void check_tiling(const std::string& path, std::vector<Entry> entries, uint64_t buffer_bytes) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const std::string where = "safetensors file " + path + ": ";
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    LOWBIT_CHECK(e.end <= buffer_bytes, where, "tensor '", e.name, "': data_offsets ", range_str(e.begin, e.end),
                 " lie beyond the end of the ", buffer_bytes, "-byte data buffer");
    if (e.begin < covered)
      LOWBIT_FAIL(where, "tensors '", previous->name, "' ", range_str(previous->begin, previous->end), " and '",
                  e.name, "' ", range_str(e.begin, e.end), " overlap");
    LOWBIT_CHECK(e.begin == covered, where, "bytes [", covered, ", ", e.begin,
                 ") of the data buffer belong to no tensor");
    covered = e.end;
    if (e.end > e.begin) previous = &e;
  }
  LOWBIT_CHECK(covered == buffer_bytes, where, "trailing bytes [", covered, ", ", buffer_bytes,
               ") of the data buffer belong to no tensor");
}

uint64_t read_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* safetensors_dtype(DType dtype) {
  for (const DTypeName& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  LOWBIT_FAIL("safetensors has no dtype for lowbit's ", dtype_name(dtype),
              " (packed b1 tensors are not stored in safetensors files; convert them to f32 or i8)");
}

// ---------------------------------------------------------------- writing

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string where = "safetensors file " + path + ": ";
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;

  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LOWBIT_CHECK(name != "__metadata__", where, "'__metadata__' is reserved and cannot name a tensor");
    LOWBIT_CHECK(!header.contains(name), where, "tensor name '", name, "' is used twice");
    LOWBIT_CHECK(t.defined(), where, "tensor '", name, "' is undefined");
    LOWBIT_CHECK(t.dtype() != DType::b1, where, "tensor '", name, "' is b1", ", which safetensors cannot store ",
                 "(the deploy format defines packed storage; convert to f32 or i8 to save it here)");
    Tensor h = t.detach().contiguous().to(Device::cpu());
    auto bytes = static_cast<uint64_t>(storage_bytes(h.dtype(), h.shape()));
    header[name] = Json{{"dtype", safetensors_dtype(h.dtype())},
                        {"shape", h.shape()},
                        {"data_offsets", Json::array({offset, offset + bytes})}};
    offset += bytes;
    host.push_back(h);
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception& e) {
    LOWBIT_FAIL(where, "a tensor name or metadata string is not valid UTF-8 (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  write_file_atomically(path, [&](FileSink& sink) {
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(uint64_t{text.size()} >> (8 * i));
    sink.write(length, 8);
    sink.write(text);
    for (const Tensor& h : host) sink.write(h.raw_data(), static_cast<size_t>(storage_bytes(h.dtype(), h.shape())));
  });
}

// ---------------------------------------------------------------- reading

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string where = "safetensors file " + path + ": ";
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  LOWBIT_CHECK(!ec, where, "cannot read: ", ec.message());
  std::ifstream in(path, std::ios::binary);
  LOWBIT_CHECK(in, where, "cannot open: ", std::strerror(errno));
  auto read = [&](void* dst, uint64_t offset, uint64_t n) {
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    LOWBIT_CHECK(in && static_cast<uint64_t>(in.gcount()) == n, where, "read of ", n, " bytes at offset ", offset,
                 " failed (file changed while reading?)");
  };

  LOWBIT_CHECK(size >= 8, where, "file is ", size, " bytes, too short for the 8-byte header length");
  unsigned char length[8];
  read(length, 0, 8);
  uint64_t n = read_le64(length);
  LOWBIT_CHECK(n <= size - 8, where, "header length ", n, " exceeds the ", size - 8,
               " bytes that follow it (truncated or not a safetensors file)");
  LOWBIT_CHECK(n <= kMaxHeaderBytes, where, "header length ", n, " exceeds the limit of ", kMaxHeaderBytes,
               " bytes");
  std::string text(n, '\0');
  read(text.data(), 8, n);
  LOWBIT_CHECK(n > 0 && text[0] == '{', where, "header does not start with '{' (not a safetensors file?)");
  Json header = parse_header(path, text);

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") file.metadata = parse_metadata(path, value);
    else entries.push_back(parse_entry(path, name, value));
  }
  uint64_t data_start = 8 + n;
  check_tiling(path, entries, size - data_start);

  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype, Device::cpu());
    if (e.end > e.begin) read(t.raw_data(), data_start + e.begin, e.end - e.begin);
    file.tensors.emplace_back(e.name, t);
  }
  return file;
}

}  // namespace lowbit::io
