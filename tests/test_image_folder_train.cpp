// Tests of the imagenet dataset in the training library (tools/train): load_data opens an image
// folder or a packed folder as streamed loaders with the folder's class count and 224x224 crops,
// refuses splits whose classes differ, train() runs an epoch on it (also after resuming with
// bad-images changed), ResNet-18 gets torchvision's ImageNet stem at 224 px (11,689,512
// parameters for 1000 classes), and the ImageNet recipes are valid settings.
#if LOWBIT_HAVE_TRAIN_LIBRARY
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/data/image_loader.h"
#include "core/data/pack.h"
#include "models/registry.h"
#include "tests/file_util.h"
#include "tests/image_files.h"
#include "tools/train/build.h"
#include "tools/train/recipes.h"
#include "tools/train/trainer.h"

namespace lowbit {
namespace {

using test::error_of;
using ::testing::HasSubstr;

class ImagenetTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PNG();
    test::write_png_split(dir_.path() / "folder", "train", {"n01", "n02"}, 4, 30, 40, 1);
    test::write_png_split(dir_.path() / "folder", "val", {"n01", "n02"}, 2, 30, 40, 2);
  }
  TrainConfig config() const {
    TrainConfig c;
    c.model = "mlp";
    c.hidden = {4};
    c.dataset = "imagenet";
    c.data_dir = dir_.file("folder");
    c.batch_size = 3;
    c.eval_batch_size = 4;
    c.epochs = 1;
    c.device = "cpu";
    c.data_threads = 2;
    c.log_every = 0;
    return c;
  }
  test::TempDir dir_{"imagenet_train"};
};

TEST_F(ImagenetTrainTest, LoadDataStreamsTheFolder) {
  RunData d = load_data(config(), Device::cpu(), true);
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.height, 224);
  EXPECT_EQ(d.width, 224);
  ASSERT_NE(d.train, nullptr);
  EXPECT_EQ(d.train->num_examples(), 8);
  EXPECT_EQ(d.test->num_examples(), 4);
  EXPECT_EQ(d.train->num_batches(), 3);
  data::Batch b;
  d.test->start_epoch(0);
  ASSERT_TRUE(d.test->next(b));
  EXPECT_EQ(b.images.shape(), (Shape{4, 224, 224, 3}));
  TrainConfig limited = config();
  limited.limit_train = 3;
  EXPECT_EQ(load_data(limited, Device::cpu(), true).train->num_examples(), 3);
}

TEST_F(ImagenetTrainTest, RefusesSplitsWithOtherClasses) {
  test::write_png_split(dir_.path() / "folder", "val", {"n03"}, 1, 30, 40, 3);
  EXPECT_THAT(error_of([&] { load_data(config(), Device::cpu(), true); }),
              HasSubstr("the training split has 2 classes and the evaluation split 3"));
}

TEST_F(ImagenetTrainTest, TrainsOnTheFolderAndOnItsPack) {
  std::ostringstream log;
  TrainConfig c = config();
  c.out = dir_.file("run");
  const TrainResult r = train(c, log);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.epochs.size(), 1u);
  EXPECT_THAT(log.str(), HasSubstr("\"dataset\":\"imagenet\""));
  // Resuming may change bad-images and data-threads (e.g. to get past a file that stopped a run).
  TrainConfig more = c;
  more.epochs = 2;
  more.resume = c.out;
  more.bad_images = "refuse";
  more.data_threads = 1;
  EXPECT_EQ(train(more, log).epochs.size(), 2u);

  data::PackOptions po;
  po.size = 64;
  po.threads = 2;
  data::pack_dataset(c.data_dir, dir_.file("packed"), po);
  TrainConfig p = config();
  p.data_dir = dir_.file("packed");
  EXPECT_TRUE(train(p, log).completed);
}

TEST(ImagenetModel, Resnet18GetsTheImagenetStemAt224) {
  ModelOptions o;
  o.in_channels = 3;
  o.in_height = o.in_width = 224;
  o.num_classes = 1000;
  Generator gen(0);
  auto model = make_model("resnet18", o, gen);
  int64_t params = 0;
  for (const auto& [name, p] : model->named_parameters()) params += p.numel();
  EXPECT_EQ(params, 11689512);  // torchvision's resnet18
  o.num_classes = 10;
  auto small = make_model("resnet18", o, gen);
  const Tensor y = (*small)(Tensor::rand({1, 224, 224, 3}));
  EXPECT_EQ(y.shape(), (Shape{1, 10}));
  o.in_height = o.in_width = 64;  // Tiny-ImageNet size: still the CIFAR stem
  int64_t cifar_stem = 0;
  for (const auto& [name, p] : make_model("resnet18", o, gen)->named_parameters()) cifar_stem += p.numel();
  EXPECT_EQ(params - 1000 * 512 - 1000 - (cifar_stem - 10 * 512 - 10), 64 * 3 * (49 - 9));
}

TEST(ImagenetRecipes, AreValidImagenetSettings) {
  for (const char* name : {"ewgs-imagenet", "daq-imagenet", "sat-imagenet"}) {
    const TrainConfig c = apply_recipe(TrainConfig{}, name);
    check_config(c);
    EXPECT_EQ(c.model, "resnet18") << name;
    EXPECT_EQ(c.dataset, "imagenet") << name;
    EXPECT_EQ(c.batch_size, 256) << name;
    EXPECT_EQ(c.optimizer, "sgd") << name;
  }
  const TrainConfig e = apply_recipe(TrainConfig{}, "ewgs-imagenet");
  EXPECT_DOUBLE_EQ(e.lr, 1e-2);
  EXPECT_EQ(e.ewgs_delta, "hessian");
  EXPECT_EQ(e.ewgs_delta_every, 1);  // spec 2.3: every epoch on ImageNet
  const TrainConfig d = apply_recipe(TrainConfig{}, "daq-imagenet");
  EXPECT_DOUBLE_EQ(d.weight_decay, 5e-5);
  EXPECT_DOUBLE_EQ(d.quant_lr, 1e-4);
  const TrainConfig s = apply_recipe(TrainConfig{}, "sat-imagenet");
  EXPECT_TRUE(s.nesterov);
  EXPECT_EQ(s.schedule, "cosine-iter");
  EXPECT_EQ(s.epochs, 150);
  EXPECT_EQ(s.seed, 1995u);
}

}  // namespace
}  // namespace lowbit
#endif
