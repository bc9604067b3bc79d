// Training end to end: an MLP with SGD separates 2-D Gaussian blobs (fast); the trainer library
// (tools/train) refuses bad settings, a CUDA device in a CPU build and a diverging loss, on a tiny
// generated dataset; and SlowFashionMnist trains the default one-epoch MLP on Fashion-MNIST.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/autograd.h"
#include "core/data/idx.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "core/optim/sgd.h"
#include "models/mlp.h"
#include "tests/test_util.h"
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include "tools/train/trainer.h"
#endif

namespace lowbit {
namespace {

using ::testing::HasSubstr;

// n points per class around three centres, unit variance: x [3n, 2], labels [3n].
std::pair<Tensor, Tensor> blobs(int64_t n, uint64_t seed) {
  const float centres[3][2] = {{0.f, 3.f}, {3.f, -2.f}, {-3.f, -2.f}};
  Generator gen(seed);
  std::vector<float> noise = Tensor::randn({3 * n, 2}, Device::cpu(), &gen).to_vector();
  std::vector<float> x(static_cast<size_t>(6 * n));
  std::vector<int32_t> y(static_cast<size_t>(3 * n));
  for (int64_t i = 0; i < 3 * n; ++i) {
    const int c = static_cast<int>(i % 3);
    y[i] = c;
    x[2 * i] = centres[c][0] + noise[2 * i];
    x[2 * i + 1] = centres[c][1] + noise[2 * i + 1];
  }
  return {Tensor::from_vector(x, {3 * n, 2}), Tensor::from_vector(y, {3 * n})};
}

double accuracy(Module& model, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  std::vector<int32_t> pred = argmax(model(x), 1).to_host<int32_t>();
  std::vector<int32_t> want = y.to_host<int32_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < want.size(); ++i) correct += pred[i] == want[i];
  return static_cast<double>(correct) / static_cast<double>(want.size());
}

TEST(TrainLoop, MlpSeparatesGaussianBlobs) {
  auto [x, y] = blobs(200, 1);
  auto [x_test, y_test] = blobs(100, 2);
  Generator gen(0);
  std::shared_ptr<Module> model = make_mlp(2, {16}, 3, gen);
  SGD sgd(model->parameters(), {.lr = 0.05f, .momentum = 0.9f});
  const int64_t n = x.size(0), batch = 30;
  for (int epoch = 0; epoch < 5; ++epoch) {
    for (int64_t start = 0; start < n; start += batch) {
      Tensor loss = cross_entropy((*model)(x.slice(0, start, start + batch)), y.slice(0, start, start + batch));
      ASSERT_TRUE(std::isfinite(loss.item()));
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
  }
  EXPECT_GE(accuracy(*model, x_test, y_test), 0.95);
}

#if LOWBIT_HAVE_TRAIN_LIBRARY

namespace fs = std::filesystem;

// Writes an unsigned-byte IDX file.
void write_idx(const fs::path& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  const uint8_t head[4] = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  f.write(reinterpret_cast<const char*>(head), 4);
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((d >> s) & 0xff));
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// A tiny MNIST-format dataset (n train and n test images of 4x4) in a fresh folder.
fs::path tiny_dataset(const std::string& name, uint32_t n) {
  fs::path dir = fs::path(::testing::TempDir()) / ("lowbit_train_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<uint8_t> images(n * 16), labels(n);
  for (uint32_t i = 0; i < n; ++i) {
    labels[i] = static_cast<uint8_t>(i % 10);
    for (int p = 0; p < 16; ++p) images[i * 16 + p] = static_cast<uint8_t>((i * 37 + p * 11) % 256);
  }
  for (const char* split : {"train", "t10k"}) {
    write_idx(dir / (std::string(split) + "-images-idx3-ubyte"), {n, 4, 4}, images);
    write_idx(dir / (std::string(split) + "-labels-idx1-ubyte"), {n}, labels);
  }
  return dir;
}

std::string train_error(const TrainConfig& c) {
  std::ostringstream log;
  try {
    train(c, log);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Trainer, RunsOnATinyDatasetAndPrintsJsonLines) {
  TrainConfig c;
  c.data_dir = tiny_dataset("ok", 50).string();
  c.hidden = {8};
  c.batch_size = 16;
  c.epochs = 2;
  c.log_every = 1;
  std::ostringstream log;
  TrainResult r = train(c, log);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[1].epoch, 2);
  EXPECT_GE(r.test_accuracy, 0.0);
  EXPECT_LE(r.test_accuracy, 1.0);
  EXPECT_GT(r.epochs[0].images_per_second, 0.0);
  EXPECT_THAT(log.str(), HasSubstr("{\"settings\":{"));
  EXPECT_THAT(log.str(), HasSubstr("\"device\":\"cpu\""));
  EXPECT_THAT(log.str(), HasSubstr("epoch 1 step 4/4"));
  EXPECT_THAT(log.str(), HasSubstr("{\"epoch\":2,"));
  log << 0.5;  // the progress lines leave the stream's number format alone
  EXPECT_THAT(log.str(), ::testing::EndsWith("\n0.5"));
}

TEST(Trainer, SameSeedSameResult) {
  TrainConfig c;
  c.data_dir = tiny_dataset("seed", 40).string();
  c.hidden = {8};
  c.batch_size = 8;
  c.log_every = 0;
  std::ostringstream log;
  TrainResult a = train(c, log), b = train(c, log);
  EXPECT_EQ(a.epochs[0].train_loss, b.epochs[0].train_loss);
  EXPECT_EQ(a.epochs[0].test_loss, b.epochs[0].test_loss);
}

TEST(Trainer, RefusesADivergingLossNamingEpochAndStep) {
  TrainConfig c;
  c.data_dir = tiny_dataset("nan", 64).string();
  c.batch_size = 8;
  c.lr = 1e30;
  c.schedule = "constant";
  EXPECT_THAT(train_error(c), HasSubstr("at epoch 1 step 2"));
}

TEST(Trainer, RefusesBadSettings) {
  TrainConfig c;
  c.data_dir = tiny_dataset("bad", 16).string();
  auto with = [&](auto change) {
    TrainConfig d = c;
    change(d);
    return train_error(d);
  };
  EXPECT_THAT(with([](TrainConfig& d) { d.epochs = 0; }), HasSubstr("epochs must be >= 1"));
  EXPECT_THAT(with([](TrainConfig& d) { d.batch_size = 0; }), HasSubstr("batch_size"));
  EXPECT_THAT(with([](TrainConfig& d) { d.lr = -1; }), HasSubstr("lr must be"));
  EXPECT_THAT(with([](TrainConfig& d) { d.schedule = "step"; }), HasSubstr("schedule"));
  EXPECT_THAT(with([](TrainConfig& d) { d.model = "nonesuch"; }), HasSubstr("unknown model 'nonesuch'"));
  EXPECT_THAT(with([](TrainConfig& d) { d.dataset = "nonesuch"; }), HasSubstr("unknown dataset 'nonesuch'"));
  EXPECT_THAT(with([](TrainConfig& d) { d.device = "tpu"; }), HasSubstr("cpu, cuda, cuda:N or auto"));
  EXPECT_THAT(with([](TrainConfig& d) { d.data_dir = "/nonexistent/lowbit"; }), HasSubstr("/nonexistent/lowbit"));
}

TEST(Trainer, GpuDeviceInACpuOnlyBuildIsRefused) {
  if (built_with_cuda()) GTEST_SKIP() << "this build has the CUDA backend";
  for (const char* name : {"cuda", "cuda:0"}) {
    try {
      parse_device(name);
      FAIL() << name << ": expected an error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("built without CUDA")) << name;
    }
  }
  EXPECT_EQ(parse_device("auto"), Device::cpu());
}

// The real thing: `lowbit train` with its defaults (one epoch of an MLP on Fashion-MNIST).
TEST(SlowFashionMnist, DefaultMlpReaches84PercentInOneEpoch) {
  TrainConfig c;
  const std::string dir = default_data_dir(c.dataset);
  if (!fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz") && !fs::exists(fs::path(dir) / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir << " (install dataset-fashion-mnist or set LOWBIT_FASHION_MNIST_DIR)";
  c.log_every = 0;
  std::ostringstream log;
  TrainResult r = train(c, log);
  std::cout << log.str();
  EXPECT_GE(r.test_accuracy, 0.84);
}

#endif  // LOWBIT_HAVE_TRAIN_LIBRARY

}  // namespace
}  // namespace lowbit
