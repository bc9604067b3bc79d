// Tensor tests: creation (empty/zeros/ones/full/arange/from_vector), seeded random draws
// (determinism per seed and stream, ranges), item/to_vector/str, in-place updates, and the errors
// for bad shapes and sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <vector>

#include "kernels/philox.h"
#include "tests/test_util.h"

namespace lowbit::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class TensorCreation : public DeviceTest {};
class TensorRandom : public DeviceTest {};
class TensorAccess : public DeviceTest {};
class TensorInPlace : public DeviceTest {};

// ------------------------------------------------------------------ creation

TEST_P(TensorCreation, EmptyHasShapeStridesDtypeDevice) {
  Tensor t = Tensor::empty({2, 3, 4}, DType::f32, device());
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.device(), device());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_FALSE(t.requires_grad());
  EXPECT_EQ(t.storage()->nbytes(), 96);

  Tensor s = Tensor::empty({}, DType::i32, device());
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  Tensor z = Tensor::empty({4, 0}, DType::f32, device());
  EXPECT_EQ(z.numel(), 0);
  EXPECT_TRUE(z.to_vector().empty());
}

TEST_P(TensorCreation, ZerosOnesFull) {
  EXPECT_EQ(Tensor::zeros({2, 2}, DType::f32, device()).to_vector(), std::vector<float>(4, 0.f));
  EXPECT_EQ(Tensor::ones({3}, DType::f32, device()).to_vector(), std::vector<float>(3, 1.f));
  EXPECT_EQ(Tensor::full({2, 3}, -2.5f, DType::f32, device()).to_vector(), std::vector<float>(6, -2.5f));
  EXPECT_EQ(Tensor::full({2}, 3.f, DType::i32, device()).to_host<int32_t>(), (std::vector<int32_t>{3, 3}));
  EXPECT_EQ(Tensor::full({2}, 7.f, DType::u8, device()).to_host<uint8_t>(), (std::vector<uint8_t>{7, 7}));
  EXPECT_EQ(Tensor::full({2}, -5.f, DType::i8, device()).to_host<int8_t>(), (std::vector<int8_t>{-5, -5}));
  EXPECT_EQ(Tensor::full({2}, 1.5f, DType::f16, device()).to_host<uint16_t>(), (std::vector<uint16_t>{0x3e00, 0x3e00}));
  EXPECT_EQ(Tensor::full({1}, 1.5f, DType::bf16, device()).to_host<uint16_t>(), (std::vector<uint16_t>{0x3fc0}));
  Tensor s = Tensor::full({}, 4.f, DType::f32, device());
  EXPECT_EQ(s.item(), 4.f);
  EXPECT_EQ(Tensor::zeros({2}, DType::i32, device()).to_host<int32_t>(), (std::vector<int32_t>{0, 0}));
}

TEST_P(TensorCreation, Arange) {
  EXPECT_EQ(Tensor::arange(0, 5, 1, DType::f32, device()).to_vector(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Tensor::arange(1, 2, 0.25, DType::f32, device()).to_vector(), (std::vector<float>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(Tensor::arange(5, 0, -2, DType::f32, device()).to_vector(), (std::vector<float>{5, 3, 1}));
  EXPECT_EQ(Tensor::arange(0, 5.5, 2, DType::f32, device()).to_vector(), (std::vector<float>{0, 2, 4}));
  Tensor e = Tensor::arange(3, 3, 1, DType::f32, device());
  EXPECT_EQ(e.shape(), (Shape{0}));
  EXPECT_EQ(Tensor::arange(4, 0, 1, DType::f32, device()).numel(), 0);
  Tensor i = Tensor::arange(-2, 2, 1, DType::i32, device());
  EXPECT_EQ(i.dtype(), DType::i32);
  EXPECT_EQ(i.device(), device());
  EXPECT_EQ(i.to_host<int32_t>(), (std::vector<int32_t>{-2, -1, 0, 1}));
  // i32 values above 2^24 are exact (not rounded through f32).
  EXPECT_EQ(Tensor::arange(16777217, 16777220, 1, DType::i32, device()).to_host<int32_t>(),
            (std::vector<int32_t>{16777217, 16777218, 16777219}));
  EXPECT_THAT([&] { Tensor::arange(0, 1, 0, DType::f32, device()); }, ThrowsMessage<Error>(HasSubstr("step")));
}

TEST_P(TensorCreation, FromVector) {
  Tensor f = Tensor::from_vector({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}, device());
  EXPECT_EQ(f.shape(), (Shape{2, 3}));
  EXPECT_EQ(f.dtype(), DType::f32);
  EXPECT_EQ(f.device(), device());
  EXPECT_EQ(f.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{-7, 8}, {2, 1}, device());
  EXPECT_EQ(i.dtype(), DType::i32);
  EXPECT_EQ(i.to_host<int32_t>(), (std::vector<int32_t>{-7, 8}));
  Tensor u = Tensor::from_vector(std::vector<uint8_t>{0, 255, 1}, {3}, device());
  EXPECT_EQ(u.dtype(), DType::u8);
  EXPECT_EQ(u.to_host<uint8_t>(), (std::vector<uint8_t>{0, 255, 1}));
  Tensor s = Tensor::from_vector({2.5f}, {}, device());
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 2.5f);
  EXPECT_EQ(Tensor::from_vector(std::vector<float>{}, {0, 3}, device()).numel(), 0);
}

TEST_P(TensorCreation, SizeMismatchAndNegativeDimsAreRefused) {
  EXPECT_THAT([&] { Tensor::from_vector({1.f, 2.f, 3.f}, {2, 2}, device()); },
              ThrowsMessage<Error>(AllOf(HasSubstr("from_vector"), HasSubstr("3 values"), HasSubstr("[2, 2]"))));
  EXPECT_THAT([&] { Tensor::from_vector(std::vector<int32_t>{1}, {2}, device()); },
              ThrowsMessage<Error>(HasSubstr("from_vector")));
  EXPECT_THAT([&] { Tensor::empty({2, -1}, DType::f32, device()); },
              ThrowsMessage<Error>(AllOf(HasSubstr("negative dimension"), HasSubstr("[2, -1]"))));
  EXPECT_THAT([&] { Tensor::zeros({-3}, DType::f32, device()); }, ThrowsMessage<Error>(HasSubstr("negative dimension")));
  EXPECT_THAT([&] { Tensor::from_vector(std::vector<float>{}, {-1, 0}, device()); },
              ThrowsMessage<Error>(HasSubstr("negative dimension")));
}

// ------------------------------------------------------------------ random

TEST_P(TensorRandom, SameSeedSameValuesOtherStreamsDiffer) {
  Generator a(42), b(42), c(43);
  std::vector<float> a1 = Tensor::rand({1000}, device(), &a).to_vector();
  std::vector<float> a2 = Tensor::rand({1000}, device(), &a).to_vector();  // next stream
  std::vector<float> b1 = Tensor::rand({1000}, device(), &b).to_vector();
  std::vector<float> c1 = Tensor::rand({1000}, device(), &c).to_vector();
  EXPECT_EQ(a1, b1);
  EXPECT_NE(a1, a2);
  EXPECT_NE(a1, c1);
  EXPECT_EQ(a.stream(), 2u);
  b.set_stream(0);  // replay the first draw
  EXPECT_EQ(Tensor::rand({1000}, device(), &b).to_vector(), a1);
}

TEST_P(TensorRandom, UniformIsThePhiloxStream) {
  Generator g(7);
  g.set_stream(3);
  std::vector<float> u = Tensor::rand({2, 50}, device(), &g).to_vector();
  for (uint64_t i = 0; i < u.size(); ++i) EXPECT_EQ(u[i], philox::uniform(7, 3, i)) << i;
}

TEST_P(TensorRandom, UniformRange) {
  Generator g(1);
  std::vector<float> u = Tensor::rand({20000}, device(), &g).to_vector();
  double mean = 0;
  for (float x : u) {
    ASSERT_GE(x, 0.f);
    ASSERT_LT(x, 1.f);
    mean += x;
  }
  EXPECT_NEAR(mean / u.size(), 0.5, kSampleMomentAtol);
}

TEST_P(TensorRandom, NormalDeterministicWithMoments) {
  Generator a(9), b(9);
  std::vector<float> x = Tensor::randn({20000}, device(), &a).to_vector();
  EXPECT_EQ(x, Tensor::randn({20000}, device(), &b).to_vector());
  EXPECT_NE(x, Tensor::randn({20000}, device(), &a).to_vector());
  double mean = 0, sq = 0;
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    mean += v;
    sq += double(v) * v;
  }
  mean /= x.size();
  EXPECT_NEAR(mean, 0.0, kSampleMomentAtol);
  EXPECT_NEAR(sq / x.size() - mean * mean, 1.0, kSampleMomentAtol);
}

TEST_P(TensorRandom, RandintRangeAndCoverage) {
  Generator a(3), b(3);
  Tensor r = Tensor::randint(-3, 4, {2000}, device(), &a);
  EXPECT_EQ(r.dtype(), DType::i32);
  std::vector<int32_t> v = r.to_host<int32_t>();
  std::set<int32_t> seen(v.begin(), v.end());
  EXPECT_EQ(seen, (std::set<int32_t>{-3, -2, -1, 0, 1, 2, 3}));
  EXPECT_EQ(v, Tensor::randint(-3, 4, {2000}, device(), &b).to_host<int32_t>());
  std::vector<int32_t> one = Tensor::randint(5, 6, {10}, device(), &a).to_host<int32_t>();
  EXPECT_EQ(one, std::vector<int32_t>(10, 5));
  EXPECT_THAT([&] { Tensor::randint(4, 4, {3}, device(), &a); }, ThrowsMessage<Error>(HasSubstr("randint")));
  EXPECT_THAT([&] { Tensor::randint(0, int64_t{1} << 40, {3}, device(), &a); }, ThrowsMessage<Error>(HasSubstr("randint")));
}

TEST_P(TensorRandom, DefaultGeneratorFollowsManualSeed) {
  manual_seed(1234);
  std::vector<float> a = Tensor::rand({64}, device()).to_vector();
  std::vector<float> a2 = Tensor::randn({64}, device()).to_vector();
  manual_seed(1234);
  EXPECT_EQ(Tensor::rand({64}, device()).to_vector(), a);
  EXPECT_EQ(Tensor::randn({64}, device()).to_vector(), a2);
}

// ------------------------------------------------------------------ access and printing

TEST_P(TensorAccess, ItemAndToVector) {
  EXPECT_EQ(Tensor::from_vector({-1.25f}, {1, 1}, device()).item(), -1.25f);
  EXPECT_EQ(Tensor::from_vector(std::vector<int32_t>{17}, {}, device()).item(), 17.f);
  EXPECT_THAT([&] { Tensor::zeros({2}, DType::f32, device()).item(); },
              ThrowsMessage<Error>(AllOf(HasSubstr("item()"), HasSubstr("[2]"))));
  EXPECT_EQ(Tensor::from_vector(std::vector<int32_t>{1, -2}, {2}, device()).to_vector(), (std::vector<float>{1, -2}));
  EXPECT_EQ(Tensor::full({2}, 0.5f, DType::f16, device()).to_vector(), (std::vector<float>{0.5f, 0.5f}));
}

TEST_P(TensorAccess, StrShowsShapeDtypeAndValues) {
  Tensor t = Tensor::from_vector({1.f, 2.5f, -3.f, 4.f, 5.f, 6.f}, {2, 3}, device());
  std::string s = t.str();
  EXPECT_THAT(s, HasSubstr("[2, 3]"));
  EXPECT_THAT(s, HasSubstr("f32"));
  EXPECT_THAT(s, HasSubstr("2.5"));
  EXPECT_THAT(s, HasSubstr("-3"));
  EXPECT_THAT(Tensor::zeros({4}, DType::i32, device()).str(), AllOf(HasSubstr("[4]"), HasSubstr("i32")));
  EXPECT_THAT(Tensor::zeros({2, 33}, DType::b1, device()).str(), AllOf(HasSubstr("[2, 33]"), HasSubstr("b1")));
  EXPECT_THAT(Tensor::zeros({1000}, DType::f32, device()).str(), HasSubstr("1000 values"));
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), s);
  EXPECT_THAT(Tensor().str(), HasSubstr("undefined"));
}

TEST_P(TensorAccess, UndefinedTensorAndBadAxisAreRefused) {
  Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_THAT([&] { (void)u.shape(); }, ThrowsMessage<Error>(HasSubstr("undefined")));
  Tensor t = Tensor::zeros({2, 3}, DType::f32, device());
  EXPECT_THAT([&] { (void)t.size(2); }, ThrowsMessage<Error>(AllOf(HasSubstr("axis 2"), HasSubstr("rank 2"))));
  EXPECT_THAT([&] { (void)t.size(-3); }, ThrowsMessage<Error>(HasSubstr("out of range")));
  EXPECT_THAT([&] { (void)t.data<int32_t>(); }, ThrowsMessage<Error>(HasSubstr("f32")));
}

TEST_P(TensorAccess, ToSameDeviceOrDtypeIsTheSameTensor) {
  Tensor t = Tensor::zeros({3}, DType::f32, device());
  EXPECT_EQ(t.to(device()).unsafe_impl(), t.unsafe_impl());
  EXPECT_EQ(t.to(DType::f32).unsafe_impl(), t.unsafe_impl());
  Tensor host = t.to(Device::cpu());
  EXPECT_TRUE(host.device().is_cpu());
  EXPECT_EQ(host.to_vector(), t.to_vector());
}

// ------------------------------------------------------------------ in-place updates and copies

TEST_P(TensorInPlace, CloneCopiesStorage) {
  Tensor a = Tensor::from_vector({1.f, 2.f, 3.f}, {3}, device());
  Tensor b = a.clone();
  EXPECT_NE(b.storage(), a.storage());
  b.fill_(9.f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(b.to_vector(), (std::vector<float>{9, 9, 9}));
}

TEST_P(TensorInPlace, FillAddMulCopy) {
  Tensor a = Tensor::from_vector({1.f, 2.f, 3.f, 4.f}, {2, 2}, device());
  a.add_(Tensor::ones({2, 2}, DType::f32, device()), 2.f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{3, 4, 5, 6}));
  a.mul_(0.5f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1.5, 2, 2.5, 3}));
  a.copy_(Tensor::from_vector(std::vector<int32_t>{7, 8, 9, 10}, {2, 2}, device()));  // converts dtype
  EXPECT_EQ(a.to_vector(), (std::vector<float>{7, 8, 9, 10}));
  a.zero_();
  EXPECT_EQ(a.to_vector(), std::vector<float>(4, 0.f));
  EXPECT_THAT([&] { a.copy_(Tensor::zeros({4}, DType::f32, device())); },
              ThrowsMessage<Error>(AllOf(HasSubstr("copy_"), HasSubstr("[4]"), HasSubstr("[2, 2]"))));
  EXPECT_THAT([&] { a.add_(Tensor::zeros({3}, DType::f32, device())); }, ThrowsMessage<Error>(HasSubstr("add_")));
}

TEST_P(TensorInPlace, FillAndCopyIntoStridedViews) {
  Tensor a = Tensor::zeros({3, 4}, DType::f32, device());
  a.slice(1, 1, 4, 2).fill_(5.f);  // columns 1 and 3
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5}));
  a.transpose(0, 1).slice(0, 0, 1).copy_(Tensor::from_vector({1.f, 2.f, 3.f}, {1, 3}, device()));  // column 0
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 5, 0, 5, 2, 5, 0, 5, 3, 5, 0, 5}));
}

LOWBIT_INSTANTIATE_DEVICES(TensorCreation);
LOWBIT_INSTANTIATE_DEVICES(TensorRandom);
LOWBIT_INSTANTIATE_DEVICES(TensorAccess);
LOWBIT_INSTANTIATE_DEVICES(TensorInPlace);

}  // namespace
}  // namespace lowbit::test
