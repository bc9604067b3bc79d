// .lbm reading and writing (see format.h): the graph <-> JSON, packed tensors <-> I32 words.
#include "tools/deploy/format.h"

#include <cstring>

#include "core/error.h"
#include "core/io/safetensors.h"
#include "kernels/bit_math.h"

namespace lowbit::deploy {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "lowbit-deploy";
constexpr const char* kFormat = "lowbit-deploy";

bool has_stride_padding(OpKind k) {
  return k == OpKind::conv2d || k == OpKind::xnor_conv2d || k == OpKind::multibit_conv2d;
}
bool is_multibit(OpKind k) { return k == OpKind::multibit_conv2d || k == OpKind::multibit_linear; }
bool is_pool(OpKind k) {
  return k == OpKind::max_pool2d || k == OpKind::binary_max_pool2d || k == OpKind::int_max_pool2d;
}
bool has_epilogue(OpKind k) {
  return k == OpKind::xnor_conv2d || k == OpKind::xnor_linear || k == OpKind::epilogue || is_multibit(k);
}

// b1 [..., C] -> its words as I32 [..., packed_words(C)].
Tensor words_of(const Tensor& b1) {
  Shape s = b1.shape();
  s.back() = packed_words(s.back());
  Tensor w = Tensor::empty(s, DType::i32);
  std::memcpy(w.raw_data(), b1.contiguous().raw_data(), static_cast<size_t>(w.numel()) * 4);
  return w;
}

json op_json(const Op& op, const std::map<std::string, std::string>& names) {
  json j = {{"op", op_kind_name(op.kind)}, {"name", op.name}};
  if (has_stride_padding(op.kind) || is_pool(op.kind)) {
    j["stride"] = op.stride;
    j["padding"] = op.padding;
  }
  if (is_pool(op.kind)) j["kernel"] = op.kernel;
  if (op.kind == OpKind::hardtanh) {
    j["lo"] = op.lo;
    j["hi"] = op.hi;
  }
  if (op.kind == OpKind::batch_norm) j["eps"] = op.eps;
  if (has_epilogue(op.kind)) j["epilogue"] = epilogue_kind_name(op.epilogue);
  if (op.kind == OpKind::quantize) {
    j["method"] = op.method;
    j["bits"] = op.bits;
    if (op.method == "aqe") j["delta"] = op.delta;
  }
  if (is_multibit(op.kind)) {
    j["input_format"] = code_format_str(op.input_format);
    j["weight_format"] = code_format_str(op.weight_format);
  }
  json t = json::object();
  for (const auto& [role, name] : names) t[role] = name;
  j["tensors"] = t;
  return j;
}

// Reads the fields of the metadata document with messages naming the file.
struct Reader {
  std::string where;

  const json& field(const json& obj, const std::string& key, const std::string& what) const {
    LOWBIT_CHECK(obj.is_object(), where, ": ", what, " must be a JSON object");
    auto it = obj.find(key);
    LOWBIT_CHECK(it != obj.end(), where, ": ", what, " has no field '", key, "'");
    return *it;
  }
  std::string str(const json& obj, const std::string& key, const std::string& what) const {
    const json& v = field(obj, key, what);
    LOWBIT_CHECK(v.is_string(), where, ": ", what, " field '", key, "' must be a string, got ", v.dump());
    return v.get<std::string>();
  }
  int64_t integer(const json& obj, const std::string& key, const std::string& what) const {
    const json& v = field(obj, key, what);
    LOWBIT_CHECK(v.is_number_integer(), where, ": ", what, " field '", key, "' must be an integer, got ", v.dump());
    return v.get<int64_t>();
  }
  float number(const json& obj, const std::string& key, const std::string& what) const {
    const json& v = field(obj, key, what);
    LOWBIT_CHECK(v.is_number(), where, ": ", what, " field '", key, "' must be a number, got ", v.dump());
    return v.get<float>();
  }
};

// The packed b1 tensor of logical shape `shape` from its I32 words; refuses a word count that
// does not fit and nonzero padding bits.
Tensor unpack_words(const Tensor& words, const json& shape_json, const std::string& name, const Reader& r) {
  LOWBIT_CHECK(shape_json.is_array() && !shape_json.empty(), r.where, ": packed tensor '", name,
               "' needs a non-empty shape list, got ", shape_json.dump());
  Shape shape;
  for (const json& d : shape_json) {
    LOWBIT_CHECK(d.is_number_integer() && d.get<int64_t>() > 0 && d.get<int64_t>() < (int64_t{1} << 40), r.where,
                 ": packed tensor '", name, "' has a bad shape ", shape_json.dump());
    shape.push_back(d.get<int64_t>());
  }
  Shape want = shape;
  want.back() = packed_words(shape.back());
  LOWBIT_CHECK(words.dtype() == DType::i32 && words.shape() == want, r.where, ": packed tensor '", name, "' of shape ",
               shape_str(shape), " must be stored as I32 words ", shape_str(want), ", got ",
               dtype_name(words.dtype()), " ", shape_str(words.shape()));
  Tensor b1 = Tensor::empty(shape, DType::b1);
  std::memcpy(b1.raw_data(), words.raw_data(), static_cast<size_t>(words.numel()) * 4);
  const int64_t tail = shape.back() % kBitsPerWord, cw = want.back();
  if (tail != 0) {
    const uint32_t* w = b1.data<uint32_t>();
    const uint32_t pad_mask = ~((uint32_t{1} << tail) - 1u);
    for (int64_t row = 0; row < words.numel() / cw; ++row)
      LOWBIT_CHECK((w[row * cw + cw - 1] & pad_mask) == 0, r.where, ": packed tensor '", name, "' row ", row,
                   " has nonzero padding bits (corrupt file)");
  }
  return b1;
}

Op read_op(const json& j, size_t index, const io::SafetensorsFile& file, const json& packed,
           std::map<std::string, bool>& used, const Reader& r) {
  const std::string what = "op " + std::to_string(index);
  Op op;
  op.kind = op_kind_from_name(r.str(j, "op", what), r.where + ": " + what);
  op.name = r.str(j, "name", what);
  if (has_stride_padding(op.kind) || is_pool(op.kind)) {
    op.stride = r.integer(j, "stride", what);
    op.padding = r.integer(j, "padding", what);
  }
  if (is_pool(op.kind)) op.kernel = r.integer(j, "kernel", what);
  if (op.kind == OpKind::hardtanh) {
    op.lo = r.number(j, "lo", what);
    op.hi = r.number(j, "hi", what);
  }
  if (op.kind == OpKind::batch_norm) op.eps = r.number(j, "eps", what);
  if (has_epilogue(op.kind)) op.epilogue = epilogue_kind_from_name(r.str(j, "epilogue", what), r.where + ": " + what);
  if (op.kind == OpKind::quantize) {
    op.method = r.str(j, "method", what);
    const int64_t bits = r.integer(j, "bits", what);
    LOWBIT_CHECK(bits >= 1 && bits <= 8, r.where, ": ", what, " field 'bits' must be in 1..8, got ", bits);
    op.bits = static_cast<int>(bits);
    if (op.method == "aqe") op.delta = r.number(j, "delta", what);
  }
  if (is_multibit(op.kind)) {
    op.input_format = code_format_from_name(r.str(j, "input_format", what), r.where + ": " + what);
    op.weight_format = code_format_from_name(r.str(j, "weight_format", what), r.where + ": " + what);
  }
  const json& tensors = r.field(j, "tensors", what);
  LOWBIT_CHECK(tensors.is_object(), r.where, ": ", what, " field 'tensors' must be an object");
  for (const auto& [role, name_json] : tensors.items()) {
    LOWBIT_CHECK(name_json.is_string(), r.where, ": ", what, " tensor '", role, "' must name a tensor");
    const std::string name = name_json.get<std::string>();
    const Tensor* t = file.find(name);
    LOWBIT_CHECK(t != nullptr, r.where, ": ", what, " '", op.name, "' needs tensor '", name,
                 "', which the file does not hold");
    LOWBIT_CHECK(!used[name], r.where, ": tensor '", name, "' is used twice");
    used[name] = true;
    op.tensors[role] = packed.contains(name) ? unpack_words(*t, packed[name], name, r) : *t;
  }
  return op;
}

}  // namespace

void save_lbm(const std::string& path, const Graph& g) {
  check_graph(g, "save " + path);
  json doc = {{"format", kFormat},
              {"version", kFormatVersion},
              {"model", g.model},
              {"dataset", g.dataset},
              {"input", {{"height", g.height}, {"width", g.width}, {"channels", g.channels}}},
              {"classes", g.classes},
              {"source", g.source}};
  json ops = json::array(), packed = json::object();
  io::NamedTensors tensors;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    std::map<std::string, std::string> names;
    for (const auto& [role, t] : op.tensors) {
      const std::string name = std::to_string(i) + "." + op.name + "." + role;
      names[role] = name;
      if (t.dtype() == DType::b1) {
        packed[name] = t.shape();
        tensors.emplace_back(name, words_of(t));
      } else {
        tensors.emplace_back(name, t);
      }
    }
    ops.push_back(op_json(op, names));
  }
  doc["ops"] = ops;
  doc["packed"] = packed;
  io::save_safetensors(path, tensors, {{kMetadataKey, doc.dump()}});
}

Graph load_lbm(const std::string& path) {
  const Reader r{path};
  io::SafetensorsFile file = io::load_safetensors(path);
  auto meta = file.metadata.find(kMetadataKey);
  LOWBIT_CHECK(meta != file.metadata.end(), path, ": not a lowbit deploy model (the safetensors metadata has no '",
               kMetadataKey, "' entry)");
  json doc;
  try {
    doc = json::parse(meta->second);
  } catch (const json::exception& e) {
    LOWBIT_FAIL(path, ": metadata '", kMetadataKey, "' is not valid JSON: ", e.what());
  }
  LOWBIT_CHECK(r.str(doc, "format", "the metadata") == kFormat, path, ": format is not '", kFormat, "'");
  const int64_t version = r.integer(doc, "version", "the metadata");
  LOWBIT_CHECK(version >= 1 && version <= kFormatVersion, path, ": format version ", version,
               " is not one this lowbit reads (1..", kFormatVersion, ")");
  Graph g;
  g.model = r.str(doc, "model", "the metadata");
  g.dataset = r.str(doc, "dataset", "the metadata");
  const json& input = r.field(doc, "input", "the metadata");
  g.height = r.integer(input, "height", "input");
  g.width = r.integer(input, "width", "input");
  g.channels = r.integer(input, "channels", "input");
  g.classes = r.integer(doc, "classes", "the metadata");
  g.source = r.field(doc, "source", "the metadata");
  const json& packed = r.field(doc, "packed", "the metadata");
  LOWBIT_CHECK(packed.is_object(), path, ": field 'packed' must be an object");
  const json& ops = r.field(doc, "ops", "the metadata");
  LOWBIT_CHECK(ops.is_array(), path, ": field 'ops' must be a list");
  std::map<std::string, bool> used;
  for (size_t i = 0; i < ops.size(); ++i) g.ops.push_back(read_op(ops[i], i, file, packed, used, r));
  for (const auto& [name, t] : file.tensors)
    LOWBIT_CHECK(used[name], path, ": tensor '", name, "' belongs to no op");
  for (const auto& [name, shape] : packed.items())
    LOWBIT_CHECK(used[name], path, ": packed tensor '", name, "' is not in the file's tensors");
  check_graph(g, path);
  return g;
}

}  // namespace lowbit::deploy
