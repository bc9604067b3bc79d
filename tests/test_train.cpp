// Training end to end: an MLP with SGD separates 2-D Gaussian blobs (fast); the trainer library
// (tools/train) refuses bad settings, a CUDA device in a CPU build and a diverging loss, on a tiny
// generated dataset; and SlowFashionMnist trains the default one-epoch MLP and the 5-epoch LeNet-5
// recipe on Fashion-MNIST.
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
#include "tests/train_fixtures.h"
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
using train_test::tiny_dataset;

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
  EXPECT_THAT(log.str(), HasSubstr("epoch 1/2 step 4/4"));
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
  EXPECT_THAT(with([](TrainConfig& d) { d.batch_size = 0; }), HasSubstr("batch-size must be >= 1"));
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

// Why the real-data tests cannot run ("" when the Fashion-MNIST files are there).
std::string fashion_mnist_missing() {
  const fs::path dir = default_data_dir("fashion-mnist");
  if (fs::exists(dir / "train-images-idx3-ubyte.gz") || fs::exists(dir / "train-images-idx3-ubyte")) return "";
  return "Fashion-MNIST not found in " + dir.string() +
         " (install dataset-fashion-mnist or set LOWBIT_FASHION_MNIST_DIR)";
}

// The real thing: `lowbit train` with its defaults (one epoch of an MLP on Fashion-MNIST).
TEST(SlowFashionMnist, DefaultMlpReaches84PercentInOneEpoch) {
  TrainConfig c;
  if (const std::string why = fashion_mnist_missing(); !why.empty()) GTEST_SKIP() << why;
  c.log_every = 0;
  std::ostringstream log;
  TrainResult r = train(c, log);
  std::cout << log.str();
  EXPECT_GE(r.test_accuracy, 0.84);
}

// The LeNet-5 target: >= 90% within 5 epochs on the CPU (the README's command; about a
// minute on two idle cores). Measured 90.72% with seed 0 and 90.49% with seed 1.
TEST(SlowFashionMnist, Lenet5Reaches90PercentInFiveEpochs) {
  TrainConfig c;
  if (const std::string why = fashion_mnist_missing(); !why.empty()) GTEST_SKIP() << why;
  c.model = "lenet5";
  c.epochs = 5;
  c.batch_size = 64;
  c.optimizer = "adam";
  c.lr = 3e-3;
  c.schedule = "cosine-iter";
  c.deterministic = true;
  c.log_every = 0;
  std::ostringstream log;
  TrainResult r = train(c, log);
  std::cout << log.str();
  EXPECT_GE(r.test_accuracy, 0.90);
}

#endif  // LOWBIT_HAVE_TRAIN_LIBRARY

}  // namespace
}  // namespace lowbit
