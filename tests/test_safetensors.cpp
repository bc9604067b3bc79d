// Tests for safetensors files (core/io/safetensors.h): round trips of every dtype and odd shapes,
// the exact byte layout against a hand-written file, and refusal of each kind of corruption.
#include "core/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/error.h"
#include "tests/file_util.h"

using lowbit::DType;
using lowbit::Shape;
using lowbit::Tensor;
using lowbit::io::NamedTensors;
using lowbit::io::SafetensorsFile;
using lowbit::test::Bytes;
using lowbit::test::error_of;
using lowbit::test::read_bytes;
using lowbit::test::write_bytes;
using ::testing::HasSubstr;

namespace {

// The bytes of a contiguous CPU tensor.
Bytes tensor_bytes(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw_data());
  return Bytes(p, p + lowbit::storage_bytes(t.dtype(), t.shape()));
}

// A tensor of `dtype` and `shape` whose bytes are random (every bit pattern, NaNs included).
Tensor random_tensor(DType dtype, const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  std::mt19937 rng(seed);
  auto* p = static_cast<uint8_t*>(t.raw_data());
  for (int64_t i = 0; i < lowbit::storage_bytes(dtype, shape); ++i) p[i] = static_cast<uint8_t>(rng());
  return t;
}

// A safetensors file from header text (padded here with spaces to a multiple of 8) and data.
Bytes make_file(const std::string& header, const Bytes& data, bool pad = true) {
  std::string h = header;
  if (pad) h.append((8 - h.size() % 8) % 8, ' ');
  Bytes b(8 + h.size() + data.size());
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(uint64_t{h.size()} >> (8 * i));
  std::copy(h.begin(), h.end(), b.begin() + 8);
  std::copy(data.begin(), data.end(), b.begin() + 8 + static_cast<std::ptrdiff_t>(h.size()));
  return b;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  // Writes raw bytes as dir_/name and returns the load error message.
  std::string load_error(const Bytes& file, const std::string& name = "bad.safetensors") {
    write_bytes(dir_.file(name), file);
    return error_of([&] { lowbit::io::load_safetensors(dir_.file(name)); });
  }
  lowbit::test::TempDir dir_{"safetensors"};
};

TEST_F(SafetensorsTest, RoundTripsEveryDtypeAndOddShapes) {
  const std::vector<Shape> shapes = {{}, {0}, {2, 0, 3}, {1}, {7}, {3, 5, 7}, {1, 1, 1, 1}, {257, 129}};
  NamedTensors tensors;
  uint32_t seed = 1;
  for (DType dtype : {DType::f32, DType::f16, DType::bf16, DType::i8, DType::i32, DType::u8})
    for (const Shape& shape : shapes)
      tensors.emplace_back(std::string(lowbit::dtype_name(dtype)) + "/" + lowbit::shape_str(shape),
                           random_tensor(dtype, shape, seed++));
  lowbit::io::save_safetensors(dir_.file("all.safetensors"), tensors);

  SafetensorsFile f = lowbit::io::load_safetensors(dir_.file("all.safetensors"));
  EXPECT_TRUE(f.metadata.empty());
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = f.tensors[i];
    EXPECT_EQ(name, tensors[i].first);  // in the order given
    EXPECT_EQ(t.dtype(), tensors[i].second.dtype()) << name;
    EXPECT_EQ(t.shape(), tensors[i].second.shape()) << name;
    EXPECT_TRUE(t.device().is_cpu()) << name;
    EXPECT_EQ(tensor_bytes(t), tensor_bytes(tensors[i].second)) << name;
  }
  ASSERT_NE(f.find("f16/[3, 5, 7]"), nullptr);
  EXPECT_EQ(f.find("f16/[3, 5, 7]")->shape(), (Shape{3, 5, 7}));
  EXPECT_EQ(f.find("nope"), nullptr);
  // The data buffer starts on an 8-byte boundary.
  Bytes raw = read_bytes(dir_.file("all.safetensors"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | raw[i];
  EXPECT_EQ(n % 8, 0u);
}

TEST_F(SafetensorsTest, SavesViewsAsContiguousValues) {
  Tensor x = Tensor::arange(0, 6).view({2, 3});
  Tensor xt = x.transpose(0, 1);  // [3, 2], not contiguous
  ASSERT_FALSE(xt.is_contiguous());
  lowbit::io::save_safetensors(dir_.file("t.safetensors"), {{"xt", xt}, {"row", x.slice(0, 1, 2)}});
  SafetensorsFile f = lowbit::io::load_safetensors(dir_.file("t.safetensors"));
  EXPECT_EQ(f.tensors[0].second.shape(), (Shape{3, 2}));
  EXPECT_EQ(f.tensors[0].second.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(f.tensors[1].second.to_vector(), (std::vector<float>{3, 4, 5}));
}

TEST_F(SafetensorsTest, RoundTripsMetadata) {
  std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"empty", ""}, {"unicode", "\xce\xbb = 0.1, \xe2\x9c\x93"}, {"json", "{\"a\": [1, \"x\"]}"}};
  lowbit::io::save_safetensors(dir_.file("m.safetensors"), {{"x", Tensor::ones({2})}}, meta);
  SafetensorsFile f = lowbit::io::load_safetensors(dir_.file("m.safetensors"));
  EXPECT_EQ(f.metadata, meta);
  ASSERT_EQ(f.tensors.size(), 1u);

  // No tensors at all: "{}" and its padding.
  lowbit::io::save_safetensors(dir_.file("none.safetensors"), {});
  EXPECT_EQ(read_bytes(dir_.file("none.safetensors")), make_file("{}", {}));
  EXPECT_TRUE(lowbit::io::load_safetensors(dir_.file("none.safetensors")).tensors.empty());
}

// The file for a tiny set of tensors, byte for byte, as the format prescribes: this is the check
// that other safetensors readers (Hugging Face's) read what we write.
TEST_F(SafetensorsTest, WritesTheExactByteLayout) {
  NamedTensors tensors = {{"w", Tensor::from_vector({1.0f, -2.0f}, {2})},
                          {"b", Tensor::from_vector(std::vector<uint8_t>{1, 2, 3}, {3})},
                          {"s", Tensor::from_vector(std::vector<int32_t>{-2}, {})},
                          {"e", Tensor::empty({2, 0}, DType::bf16)}};
  lowbit::io::save_safetensors(dir_.file("tiny.safetensors"), tensors, {{"format", "pt"}});

  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]},)"
      R"("s":{"dtype":"I32","shape":[],"data_offsets":[11,15]},)"
      R"("e":{"dtype":"BF16","shape":[2,0],"data_offsets":[15,15]}})"
      "      ";  // 250 bytes of JSON + 6 spaces = 256
  Bytes want = {0x00, 0x01, 0, 0, 0, 0, 0, 0};  // 256, little-endian u64
  want.insert(want.end(), header.begin(), header.end());
  Bytes data = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0,  // 1.0f, -2.0f
                0x01, 0x02, 0x03,                                // u8
                0xFE, 0xFF, 0xFF, 0xFF};                         // i32 -2
  want.insert(want.end(), data.begin(), data.end());
  EXPECT_EQ(read_bytes(dir_.file("tiny.safetensors")), want);
}

// A file laid out as Hugging Face's writer does (tensors sorted by dtype size, header keys in
// another order than the offsets), written by hand.
TEST_F(SafetensorsTest, ReadsAHandWrittenFile) {
  Bytes file = make_file(R"({"__metadata__":{"format":"pt"},)"
                         R"("b":{"dtype":"F16","shape":[1,2],"data_offsets":[4,8]},)"
                         R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("z":{"dtype":"I8","shape":[0],"data_offsets":[8,8]}})",
                         {0x00, 0x00, 0x40, 0x40, 0x00, 0x3C, 0x00, 0xC0});  // 3.0f; f16 1.0, -2.0
  write_bytes(dir_.file("hf.safetensors"), file);
  SafetensorsFile f = lowbit::io::load_safetensors(dir_.file("hf.safetensors"));
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].first, "b");
  EXPECT_EQ(f.tensors[0].second.dtype(), DType::f16);
  EXPECT_EQ(f.tensors[0].second.to_vector(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(f.tensors[1].first, "a");
  EXPECT_EQ(f.tensors[1].second.to_vector(), (std::vector<float>{3.0f}));
  EXPECT_EQ(f.tensors[2].second.shape(), (Shape{0}));
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST_F(SafetensorsTest, RefusesTruncatedFiles) {
  lowbit::io::save_safetensors(dir_.file("good.safetensors"),
                               {{"a", Tensor::ones({4})}, {"b", Tensor::zeros({2, 3}, DType::i32)}});
  Bytes good = read_bytes(dir_.file("good.safetensors"));
  const size_t header_end = good.size() - 16 - 24;
  for (size_t cut : {size_t{0}, size_t{3}, size_t{7}})
    EXPECT_THAT(load_error(Bytes(good.begin(), good.begin() + cut)), HasSubstr("too short for the 8-byte header"))
        << cut;
  for (size_t cut : {size_t{8}, size_t{20}, header_end - 1})
    EXPECT_THAT(load_error(Bytes(good.begin(), good.begin() + cut)), HasSubstr("exceeds the")) << cut;
  for (size_t cut : {header_end, header_end + 10, good.size() - 1})
    EXPECT_THAT(load_error(Bytes(good.begin(), good.begin() + cut)), HasSubstr("lie beyond the end")) << cut;
  // Every message names the file.
  EXPECT_THAT(load_error(Bytes(good.begin(), good.begin() + 5), "cut.safetensors"),
              HasSubstr("safetensors file " + dir_.file("cut.safetensors") + ": file is 5 bytes"));
}

TEST_F(SafetensorsTest, RefusesABadHeaderLength) {
  lowbit::io::save_safetensors(dir_.file("good.safetensors"), {{"a", Tensor::ones({2})}});
  Bytes good = read_bytes(dir_.file("good.safetensors"));
  Bytes big = good;
  big[7] = 0x80;  // 2^63 + ...
  EXPECT_THAT(load_error(big), HasSubstr("exceeds the"));
  Bytes plus = good;
  plus[0] += 1;  // the header swallows the first data byte (0x00)
  EXPECT_THAT(load_error(plus), HasSubstr("header is not valid JSON: it holds a NUL byte at header offset 56"));
  Bytes minus = good;
  minus[0] -= 1;  // one padding space becomes part of the buffer
  EXPECT_THAT(load_error(minus), HasSubstr("trailing bytes [8, 9) of the data buffer belong to no tensor"));
  Bytes zero = good;
  std::memset(zero.data(), 0, 8);
  EXPECT_THAT(load_error(zero), HasSubstr("header does not start with '{'"));
}

TEST_F(SafetensorsTest, RefusesBadJson) {
  EXPECT_THAT(load_error(make_file(R"({"a": {"dtype": "F32",)", {})), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(load_error(make_file(R"({"a": 1} x)", {})), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(load_error(make_file("{\"\xff\": 1}", {})), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(load_error(make_file("[1]", {})), HasSubstr("does not start with '{'"));
  EXPECT_THAT(load_error(make_file(std::string("{}\0{\"x\"", 6), {})), HasSubstr("holds a NUL byte"));
  EXPECT_THAT(load_error(make_file(R"({"a": 1})", {})), HasSubstr("tensor 'a': entry is a JSON number"));
  // Padding with anything but whitespace.
  EXPECT_THAT(load_error(make_file("{}xxxxxx", {}, false)), HasSubstr("header is not valid JSON"));
}

TEST_F(SafetensorsTest, RefusesBadEntries) {
  auto entry = [&](const std::string& body, const Bytes& data) {
    return load_error(make_file(R"({"t": )" + body + "}", data));
  };
  const Bytes eight(8);
  EXPECT_THAT(entry(R"({"dtype": "F33", "shape": [2], "data_offsets": [0, 8]})", eight),
              HasSubstr("tensor 't': unknown dtype 'F33' (lowbit reads F32, F16, BF16, I8, I32, U8)"));
  EXPECT_THAT(entry(R"({"dtype": "F64", "shape": [1], "data_offsets": [0, 8]})", eight),
              HasSubstr("unknown dtype 'F64'"));
  EXPECT_THAT(entry(R"({"dtype": 1, "shape": [2], "data_offsets": [0, 8]})", eight),
              HasSubstr("dtype is a JSON number"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "data_offsets": [0, 8]})", eight), HasSubstr("missing field 'shape'"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": 1})", eight),
              HasSubstr("unexpected field 'x'"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})", eight),
              HasSubstr("shape holds -2, not a non-negative integer"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]})", eight),
              HasSubstr("not a non-negative integer"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": 2, "data_offsets": [0, 8]})", eight),
              HasSubstr("shape is a JSON number, not an array"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]})", eight),
              HasSubstr("is too large"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [2], "data_offsets": [0]})", eight),
              HasSubstr("data_offsets is [0], not [begin, end]"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]})", eight),
              HasSubstr("data_offsets [8, 0] end before they begin"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})", eight),
              HasSubstr("tensor 't': data_offsets [0, 8] hold 8 bytes but F32 [3] needs 12"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})", eight),
              HasSubstr("tensor 't': data_offsets [0, 16] lie beyond the end of the 8-byte data buffer"));
  EXPECT_THAT(entry(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "dtype": "F32"})", eight),
              HasSubstr("has the key 'dtype' twice"));
  EXPECT_THAT(load_error(make_file(R"({"__metadata__": {"k": 1}})", {})),
              HasSubstr("__metadata__ entry 'k' is a JSON number, not a string"));
  EXPECT_THAT(load_error(make_file(R"({"__metadata__": []})", {})), HasSubstr("__metadata__ is a JSON array"));
}

TEST_F(SafetensorsTest, RefusesBadTiling) {
  const std::string a = R"("a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  EXPECT_THAT(load_error(make_file("{" + a + R"(, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                                   Bytes(12))),
              HasSubstr("tensors 'a' [0, 8] and 'b' [4, 12] overlap"));
  EXPECT_THAT(load_error(make_file("{" + a + R"(, "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                                   Bytes(16))),
              HasSubstr("has the key 'a' twice"));
  EXPECT_THAT(load_error(make_file("{" + a + R"(, "b": {"dtype": "U8", "shape": [2], "data_offsets": [10, 12]}})",
                                   Bytes(12))),
              HasSubstr("bytes [8, 10) of the data buffer belong to no tensor"));
  EXPECT_THAT(load_error(make_file("{" + a + "}", Bytes(11))),
              HasSubstr("trailing bytes [8, 11) of the data buffer belong to no tensor"));
  EXPECT_THAT(load_error(make_file("{}", Bytes(1))), HasSubstr("trailing bytes [0, 1)"));
}

TEST_F(SafetensorsTest, RefusesAMissingFile) {
  std::string p = dir_.file("missing.safetensors");
  EXPECT_THAT(error_of([&] { lowbit::io::load_safetensors(p); }),
              HasSubstr("safetensors file " + p + ": cannot read: No such file or directory"));
}

TEST_F(SafetensorsTest, RefusesWhatItCannotSave) {
  const std::string p = dir_.file("out.safetensors");
  lowbit::io::save_safetensors(p, {{"old", Tensor::ones({1})}});
  const Bytes old = read_bytes(p);
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {{"x", Tensor::ones({40}).to(DType::b1)}}); }),
              HasSubstr("tensor 'x' is b1, which safetensors cannot store"));
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {{"x", Tensor::ones({1})}, {"x", Tensor::ones({1})}}); }),
              HasSubstr("tensor name 'x' is used twice"));
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {{"__metadata__", Tensor::ones({1})}}); }),
              HasSubstr("'__metadata__' is reserved"));
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {{"x", Tensor()}}); }),
              HasSubstr("tensor 'x' is undefined"));
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {{"bad\xff", Tensor::ones({1})}}); }),
              HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of([&] { lowbit::io::save_safetensors(p, {}, {{"k", "\xc3"}}); }), HasSubstr("not valid UTF-8"));
  EXPECT_EQ(read_bytes(p), old);  // a refused save leaves the old file alone
  EXPECT_THAT(error_of([] { lowbit::io::safetensors_dtype(DType::b1); }), HasSubstr("no dtype for lowbit's b1"));
}

}  // namespace
