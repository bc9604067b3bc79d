// dtype tests: f32 <-> f16/bf16 round-to-nearest-even at hand-picked bit patterns (ties,
// subnormals, overflow, inf, NaN) plus exhaustive 16-bit round trips; integer conversions
// (round half to even, saturation); b1 sign packing (exact words for awkward inner sizes, padding
// bits, round trip to ±1) and storage sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/test_util.h"

namespace lowbit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

float f32_bits(uint32_t b) { return std::bit_cast<float>(b); }
bool is_half_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }
bool is_bf16_nan(uint16_t h) { return (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0; }

struct Case16 {
  float in;
  uint16_t want;
};

// f32 -> f16, round to nearest even. 1 + 2^-11 lies exactly between 1 and the next half (1 + 2^-10).
const std::vector<Case16> kHalfCases = {
    {1.0f, 0x3c00},
    {1.0f + 0x1p-11f, 0x3c00},             // tie -> even (down)
    {1.0f + 3 * 0x1p-11f, 0x3c02},         // tie -> even (up)
    {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01},  // just above the tie
    {1.0f + 0x1p-11f - 0x1p-23f, 0x3c00},  // just below the tie
    {-2.0f, 0xc000},
    {0.0f, 0x0000},
    {-0.0f, 0x8000},
    {65504.0f, 0x7bff},    // largest finite half
    {65519.0f, 0x7bff},    // below the tie with 65536
    {65520.0f, 0x7c00},    // tie between 65504 and 2^16 -> even -> inf
    {1.0e6f, 0x7c00},      // overflow -> inf
    {-1.0e6f, 0xfc00},
    {std::numeric_limits<float>::infinity(), 0x7c00},
    {-std::numeric_limits<float>::infinity(), 0xfc00},
    {0x1p-14f, 0x0400},                 // smallest normal
    {0x1p-14f - 0x1p-24f, 0x03ff},      // largest subnormal
    {0x1p-24f, 0x0001},                 // smallest subnormal
    {-0x1p-24f, 0x8001},
    {0x1p-25f, 0x0000},                 // tie between 0 and 2^-24 -> even (0)
    {0x1p-25f + 0x1p-35f, 0x0001},      // just above that tie
    {3 * 0x1p-25f, 0x0002},             // tie between 1 and 2 subnormal steps -> even (2)
    {0x1p-26f, 0x0000},
    {1e-30f, 0x0000},
    {f32_bits(0x00000001u), 0x0000},    // f32 subnormal underflows
};

// f32 -> bf16, round to nearest even. 1 + 2^-8 lies exactly between 1 and 1 + 2^-7.
const std::vector<Case16> kBf16Cases = {
    {1.0f, 0x3f80},
    {1.0f + 0x1p-8f, 0x3f80},             // tie -> even (down)
    {1.0f + 3 * 0x1p-8f, 0x3f82},         // tie -> even (up)
    {1.0f + 0x1p-8f + 0x1p-20f, 0x3f81},  // just above the tie
    {-0.0f, 0x8000},
    {f32_bits(0x7f7f0000u), 0x7f7f},      // largest finite bf16
    {f32_bits(0x7f7f8000u), 0x7f80},      // tie with 2^128 -> even -> inf
    {std::numeric_limits<float>::max(), 0x7f80},
    {std::numeric_limits<float>::infinity(), 0x7f80},
    {-std::numeric_limits<float>::infinity(), 0xff80},
    {f32_bits(0x00010000u), 0x0001},      // subnormal, exact
    {f32_bits(0x00008000u), 0x0000},      // subnormal tie -> even (0)
    {f32_bits(0x00018000u), 0x0002},      // subnormal tie -> even (2)
    {f32_bits(0x00008001u), 0x0001},      // above the tie
};

// ------------------------------------------------------------------ host bit conversions

TEST(DTypeHalf, HostConversionCases) {
  for (const Case16& c : kHalfCases)
    EXPECT_EQ(float_to_half(c.in), c.want) << "input " << c.in << " (bits 0x" << std::hex << std::bit_cast<uint32_t>(c.in) << ")";
  EXPECT_TRUE(is_half_nan(float_to_half(std::nanf(""))));
  EXPECT_TRUE(is_half_nan(float_to_half(f32_bits(0x7f800001u)))) << "a NaN with only low mantissa bits must stay NaN";
  EXPECT_TRUE(is_half_nan(float_to_half(f32_bits(0xff800001u))));
}

TEST(DTypeHalf, HalfToFloatSpecials) {
  EXPECT_EQ(half_to_float(0x0001), 0x1p-24f);
  EXPECT_EQ(half_to_float(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(half_to_float(0x0400), 0x1p-14f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x3c01), 1.0f + 0x1p-10f);
  EXPECT_EQ(half_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7c01)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x8000), 0.0f);
}

TEST(DTypeHalf, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    auto hh = static_cast<uint16_t>(h);
    float f = half_to_float(hh);
    if (is_half_nan(hh)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      ASSERT_TRUE(is_half_nan(float_to_half(f))) << std::hex << h;
    } else {
      ASSERT_EQ(float_to_half(f), hh) << std::hex << h;
    }
  }
}

TEST(DTypeBf16, HostConversionCases) {
  for (const Case16& c : kBf16Cases)
    EXPECT_EQ(float_to_bf16(c.in), c.want) << "input bits 0x" << std::hex << std::bit_cast<uint32_t>(c.in);
  EXPECT_TRUE(is_bf16_nan(float_to_bf16(std::nanf(""))));
  EXPECT_TRUE(is_bf16_nan(float_to_bf16(f32_bits(0x7f800001u)))) << "a NaN with only low mantissa bits must stay NaN";
  EXPECT_TRUE(is_bf16_nan(float_to_bf16(f32_bits(0xffffffffu))));
}

TEST(DTypeBf16, EveryBf16RoundTrips) {
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    auto hh = static_cast<uint16_t>(h);
    float f = bf16_to_float(hh);
    ASSERT_EQ(std::bit_cast<uint32_t>(f), h << 16);
    if (is_bf16_nan(hh)) {
      ASSERT_TRUE(is_bf16_nan(float_to_bf16(f))) << std::hex << h;
    } else {
      ASSERT_EQ(float_to_bf16(f), hh) << std::hex << h;
    }
  }
}

TEST(DTypeTable, NamesAndSizes) {
  EXPECT_STREQ(dtype_name(DType::f32), "f32");
  EXPECT_STREQ(dtype_name(DType::bf16), "bf16");
  EXPECT_STREQ(dtype_name(DType::b1), "b1");
  EXPECT_EQ(storage_bytes(DType::f32, {2, 3}), 24);
  EXPECT_EQ(storage_bytes(DType::f16, {2, 3}), 12);
  EXPECT_EQ(storage_bytes(DType::bf16, {5}), 10);
  EXPECT_EQ(storage_bytes(DType::i8, {2, 3}), 6);
  EXPECT_EQ(storage_bytes(DType::i32, {}), 4);
  EXPECT_EQ(storage_bytes(DType::u8, {0, 7}), 0);
}

TEST(DTypeTable, B1StorageRoundsRowsToWords) {
  EXPECT_EQ(storage_bytes(DType::b1, {1}), 4);
  EXPECT_EQ(storage_bytes(DType::b1, {32}), 4);
  EXPECT_EQ(storage_bytes(DType::b1, {33}), 8);
  EXPECT_EQ(storage_bytes(DType::b1, {3, 33}), 24);  // each row rounds up on its own
  EXPECT_EQ(storage_bytes(DType::b1, {2, 3, 65}), 6 * 3 * 4);
  EXPECT_EQ(storage_bytes(DType::b1, {4, 64}), 32);
  EXPECT_EQ(storage_bytes(DType::b1, {}), 4);
  EXPECT_EQ(storage_bytes(DType::b1, {2, 0}), 0);
  EXPECT_EQ(storage_bytes(DType::b1, {0, 5}), 0);
  EXPECT_EQ(Tensor::empty({3, 33}, DType::b1).storage()->nbytes(), 24);
}

// ------------------------------------------------------------------ tensor conversions per device

class DTypeConvert : public DeviceTest {
 protected:
  template <typename T>
  std::vector<T> convert(const std::vector<float>& in, DType to) {
    return Tensor::from_vector(in, {static_cast<int64_t>(in.size())}, device()).to(to).template to_host<T>();
  }
};

TEST_P(DTypeConvert, F32ToF16) {
  std::vector<float> in;
  for (const Case16& c : kHalfCases) in.push_back(c.in);
  in.push_back(std::nanf(""));
  std::vector<uint16_t> got = convert<uint16_t>(in, DType::f16);
  for (size_t i = 0; i < kHalfCases.size(); ++i) EXPECT_EQ(got[i], kHalfCases[i].want) << "input " << kHalfCases[i].in;
  EXPECT_TRUE(is_half_nan(got.back()));
}

TEST_P(DTypeConvert, F32ToBf16) {
  std::vector<float> in;
  for (const Case16& c : kBf16Cases) in.push_back(c.in);
  in.push_back(std::nanf(""));
  std::vector<uint16_t> got = convert<uint16_t>(in, DType::bf16);
  for (size_t i = 0; i < kBf16Cases.size(); ++i)
    EXPECT_EQ(got[i], kBf16Cases[i].want) << "input bits 0x" << std::hex << std::bit_cast<uint32_t>(kBf16Cases[i].in);
  EXPECT_TRUE(is_bf16_nan(got.back()));
}

TEST_P(DTypeConvert, HalfAndBf16BackToF32) {
  const std::vector<uint16_t> halves = {0x0001, 0x03ff, 0x3c00, 0x3c01, 0x7bff, 0xc000, 0x7c00, 0xfc00};
  Tensor h = Tensor::empty({static_cast<int64_t>(halves.size())}, DType::f16);
  for (size_t i = 0; i < halves.size(); ++i) h.data<uint16_t>()[i] = halves[i];
  std::vector<float> got = h.to(device()).to(DType::f32).to_vector();
  for (size_t i = 0; i < halves.size(); ++i) EXPECT_EQ(got[i], half_to_float(halves[i])) << std::hex << halves[i];
  EXPECT_EQ(got[0], 0x1p-24f);
  EXPECT_EQ(got[4], 65504.0f);

  std::vector<float> in = {1.5f, -3.25f, 0x1p-130f, 1e38f};
  std::vector<float> back = Tensor::from_vector(in, {4}, device()).to(DType::bf16).to(DType::f32).to_vector();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(back[i], bf16_to_float(float_to_bf16(in[i])));
  EXPECT_EQ(back[0], 1.5f);
  EXPECT_EQ(back[1], -3.25f);
}

TEST_P(DTypeConvert, F32ToI8RoundsHalfToEvenAndSaturates) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> in = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49f, 126.5f, 127.4f, 127.6f, 200.f, -128.4f, -128.6f,
                           -1000.f, inf, -inf, std::nanf("")};
  std::vector<int8_t> want = {0, 2, 2, 0, -2, -2, 0, 126, 127, 127, 127, -128, -128, -128, 127, -128, 0};
  std::vector<int8_t> got = convert<int8_t>(in, DType::i8);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(got[i], want[i]) << "input " << in[i];
}

TEST_P(DTypeConvert, F32ToU8Saturates) {
  std::vector<float> in = {-1.f, -0.6f, -0.4f, 0.5f, 1.5f, 254.5f, 255.4f, 255.5f, 1000.f, std::nanf("")};
  std::vector<uint8_t> want = {0, 0, 0, 0, 2, 254, 255, 255, 255, 0};
  std::vector<uint8_t> got = convert<uint8_t>(in, DType::u8);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(got[i], want[i]) << "input " << in[i];
}

TEST_P(DTypeConvert, F32ToI32SaturatesAtTheRange) {
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  std::vector<float> in = {2.5f, 3.5f, -3.5f, 16777216.f, 0x1p31f, -0x1p31f, 3e9f, -3e9f,
                           std::numeric_limits<float>::infinity()};
  std::vector<int32_t> want = {2, 4, -4, 16777216, hi, lo, hi, lo, hi};
  std::vector<int32_t> got = convert<int32_t>(in, DType::i32);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(got[i], want[i]) << "input " << in[i];
}

TEST_P(DTypeConvert, IntegersToIntegersAndFloat) {
  Tensor i = Tensor::from_vector(std::vector<int32_t>{-300, -128, -1, 0, 127, 300, 16777216}, {7}, device());
  EXPECT_EQ(i.to(DType::i8).to_host<int8_t>(), (std::vector<int8_t>{-128, -128, -1, 0, 127, 127, 127}));
  EXPECT_EQ(i.to(DType::u8).to_host<uint8_t>(), (std::vector<uint8_t>{0, 0, 0, 0, 127, 255, 255}));
  EXPECT_EQ(i.to(DType::f32).to_vector(), (std::vector<float>{-300, -128, -1, 0, 127, 300, 16777216}));
  Tensor u = Tensor::from_vector(std::vector<uint8_t>{0, 1, 200, 255}, {4}, device());
  EXPECT_EQ(u.to(DType::i8).to_host<int8_t>(), (std::vector<int8_t>{0, 1, 127, 127}));
  EXPECT_EQ(u.to(DType::i32).to_host<int32_t>(), (std::vector<int32_t>{0, 1, 200, 255}));
  EXPECT_EQ(u.to_vector(), (std::vector<float>{0, 1, 200, 255}));
}

// ------------------------------------------------------------------ b1 packing

class DTypeB1 : public DeviceTest {};

// Bit b of word w in row r is set when x[r][32w + b] < 0; bits past the row's end are 0.
std::vector<uint32_t> expected_words(const std::vector<float>& x, int64_t rows, int64_t inner) {
  int64_t words = (inner + 31) / 32;
  std::vector<uint32_t> out(static_cast<size_t>(rows * words), 0u);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < inner; ++i)
      if (x[static_cast<size_t>(r * inner + i)] < 0.f) out[static_cast<size_t>(r * words + i / 32)] |= 1u << (i % 32);
  return out;
}

TEST_P(DTypeB1, PacksAwkwardInnerSizesExactly) {
  for (int64_t inner : {1, 31, 32, 33, 63, 65}) {
    const int64_t rows = 3;
    std::vector<float> x;  // mixes negatives, zeros and positives
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < inner; ++i) x.push_back(static_cast<float>((i * 7 + r * 3) % 5) - 2.f);
    Tensor packed = Tensor::from_vector(x, {rows, inner}, device()).to(DType::b1);
    EXPECT_EQ(packed.dtype(), DType::b1);
    EXPECT_EQ(packed.shape(), (Shape{rows, inner}));
    EXPECT_EQ(packed.storage()->nbytes(), rows * ((inner + 31) / 32) * 4);
    EXPECT_EQ(packed.to_host<uint32_t>(), expected_words(x, rows, inner)) << "inner " << inner;

    std::vector<float> back = packed.to(DType::f32).to_vector();
    ASSERT_EQ(back.size(), x.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], x[i] < 0.f ? -1.f : 1.f) << "inner " << inner << " at " << i;
  }
}

TEST_P(DTypeB1, HandWrittenWords) {
  struct Case {
    int64_t inner;
    std::vector<uint32_t> all_negative, odd_negative;
  };
  const std::vector<Case> cases = {
      {1, {0x00000001u}, {0x00000000u}},
      {31, {0x7fffffffu}, {0x2aaaaaaau}},
      {32, {0xffffffffu}, {0xaaaaaaaau}},
      {33, {0xffffffffu, 0x00000001u}, {0xaaaaaaaau, 0x00000000u}},
      {63, {0xffffffffu, 0x7fffffffu}, {0xaaaaaaaau, 0x2aaaaaaau}},
      {65, {0xffffffffu, 0xffffffffu, 0x00000001u}, {0xaaaaaaaau, 0xaaaaaaaau, 0x00000000u}},
  };
  for (const Case& c : cases) {
    Tensor neg = Tensor::full({c.inner}, -0.5f, DType::f32, device());
    EXPECT_EQ(neg.to(DType::b1).to_host<uint32_t>(), c.all_negative) << "inner " << c.inner;
    std::vector<float> alt;
    for (int64_t i = 0; i < c.inner; ++i) alt.push_back(i % 2 ? -1.f : 1.f);
    EXPECT_EQ(Tensor::from_vector(alt, {c.inner}, device()).to(DType::b1).to_host<uint32_t>(), c.odd_negative)
        << "inner " << c.inner;
  }
}

TEST_P(DTypeB1, ZeroAndNegativeZeroPackAsPlusOne) {
  Tensor x = Tensor::from_vector({0.f, -0.f, -1e-30f, 1e-30f}, {4}, device());
  EXPECT_EQ(x.to(DType::b1).to_host<uint32_t>(), (std::vector<uint32_t>{0x4u}));
  EXPECT_EQ(x.to(DType::b1).to_vector(), (std::vector<float>{1, 1, -1, 1}));
}

TEST_P(DTypeB1, PacksTheViewsInnermostAxis) {
  Generator gen(5);
  Tensor x = Tensor::randn({33, 4}, Device::cpu(), &gen).to(device());
  Tensor t = x.transpose(0, 1);  // [4, 33], not contiguous
  std::vector<float> tv = t.to_vector();
  EXPECT_EQ(t.to(DType::b1).to_host<uint32_t>(), expected_words(tv, 4, 33));
}

TEST_P(DTypeB1, FromOtherDtypesAndBack) {
  Tensor x = Tensor::from_vector({-2.f, 3.f, -0.25f, 0.f, 7.f}, {5}, device());
  std::vector<uint32_t> want = {0x5u};
  EXPECT_EQ(x.to(DType::f16).to(DType::b1).to_host<uint32_t>(), want);
  EXPECT_EQ(x.to(DType::i32).to(DType::b1).to_host<uint32_t>(), (std::vector<uint32_t>{0x1u}));  // -0.25 rounds to 0
  Tensor b = x.to(DType::b1);
  EXPECT_EQ(b.to(DType::f16).to_vector(), (std::vector<float>{-1, 1, -1, 1, 1}));
  EXPECT_EQ(b.to(DType::i8).to_host<int8_t>(), (std::vector<int8_t>{-1, 1, -1, 1, 1}));
}

TEST_P(DTypeB1, ZerosIsAllPlusOneAndFullIsRefused) {
  Tensor z = Tensor::zeros({2, 40}, DType::b1, device());
  EXPECT_EQ(z.to_host<uint32_t>(), (std::vector<uint32_t>(4, 0u)));
  EXPECT_EQ(z.to_vector(), std::vector<float>(80, 1.f));
  EXPECT_THAT([&] { Tensor::full({2, 3}, 1.f, DType::b1, device()); }, ThrowsMessage<Error>(HasSubstr("b1")));
}

TEST_P(DTypeB1, ViewsKeepThePackedAxis) {
  Tensor b = Tensor::full({2, 3, 40}, -1.f, DType::f32, device()).to(DType::b1);
  EXPECT_EQ(b.view({6, 40}).shape(), (Shape{6, 40}));
  EXPECT_THAT([&] { b.permute({2, 1, 0}); }, ThrowsMessage<Error>(HasSubstr("packed")));
  EXPECT_THAT([&] { b.slice(2, 0, 8); }, ThrowsMessage<Error>(HasSubstr("packed")));
  EXPECT_THAT([&] { b.view({2, 120}); }, ThrowsMessage<Error>(HasSubstr("innermost")));
}

LOWBIT_INSTANTIATE_DEVICES(DTypeConvert);
LOWBIT_INSTANTIATE_DEVICES(DTypeB1);

}  // namespace
}  // namespace lowbit::test
