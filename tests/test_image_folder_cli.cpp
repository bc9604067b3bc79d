// Tests of `lowbit pack-dataset` and `lowbit train --dataset imagenet` run as child processes on a
// generated image folder: packing reports its splits, training reads the folder and the pack,
// bad images are reported by path on stderr (or stop the run with --bad-images refuse), and bad
// flags are refused.
#if LOWBIT_HAVE_TRAIN_LIBRARY && defined(LOWBIT_CLI_PATH)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli_run.h"
#include "tests/file_util.h"
#include "tests/image_files.h"

namespace lowbit {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

test::CliRun lowbit_cli(const std::string& args) { return test::run_lowbit(LOWBIT_CLI_PATH, args); }

nlohmann::json last_json_line(const std::string& text) {
  nlohmann::json last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') last = nlohmann::json::parse(line);
  return last;
}

class ImageFolderCli : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PNG();
    images_ = test::write_png_split(dir_.path() / "folder", "train", {"a", "b"}, 3, 24, 32, 1);
    test::write_png_split(dir_.path() / "folder", "val", {"a", "b"}, 2, 24, 32, 2);
  }
  std::string train_args(const std::string& data_dir, const std::string& run) const {
    return "train --dataset imagenet --data-dir " + test::shell_quoted(data_dir) +
           " --model mlp --hidden 4 --epochs 1 --batch-size 2 --eval-batch-size 4 --device cpu --data-threads 2 "
           "--out " +
           test::shell_quoted(dir_.file(run));
  }
  test::TempDir dir_{"image_folder_cli"};
  std::vector<test::FolderImage> images_;
};

TEST_F(ImageFolderCli, PackThenTrainOnThePackAndOnTheFolder) {
  const test::CliRun pack =
      lowbit_cli("pack-dataset --data-dir " + test::shell_quoted(dir_.file("folder")) + " --out " +
                 test::shell_quoted(dir_.file("packed")) + " --size 40 --images-per-shard 4");
  ASSERT_EQ(pack.code, 0) << pack.output;
  EXPECT_THAT(pack.output, AllOf(HasSubstr("train: 6 images in 2 shards"), HasSubstr("val: 4 images in 1 shards")));
  const nlohmann::json j = last_json_line(pack.output);
  EXPECT_EQ(j["splits"]["train"]["images"], 6);
  EXPECT_EQ(j["size"], 40);
  for (const std::string data : {"packed", "folder"}) {
    const test::CliRun r = lowbit_cli(train_args(dir_.file(data), "run_" + data));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_THAT(r.output, AllOf(HasSubstr("epoch 1/1"), HasSubstr("test accuracy")));
  }
}

TEST_F(ImageFolderCli, BadImagesAreReportedOrStopTheRun) {
  test::write_bytes(images_[1].path, {'n', 'o', 'p', 'e'});
  const test::CliRun skipped = lowbit_cli(train_args(dir_.file("folder"), "run_skip"));
  ASSERT_EQ(skipped.code, 0) << skipped.output;
  EXPECT_THAT(skipped.output, AllOf(HasSubstr("skipped " + images_[1].path), HasSubstr("not a JPEG or PNG")));
  const test::CliRun refused = lowbit_cli(train_args(dir_.file("folder"), "run_refuse") + " --bad-images refuse");
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.output, AllOf(HasSubstr("lowbit: error: "), HasSubstr(images_[1].path)));
  const test::CliRun pack =
      lowbit_cli("pack-dataset --bad-images refuse --data-dir " + test::shell_quoted(dir_.file("folder")) + " --out " +
                 test::shell_quoted(dir_.file("p")));
  EXPECT_EQ(pack.code, 1);
  EXPECT_THAT(pack.output, HasSubstr(images_[1].path));
}

TEST_F(ImageFolderCli, RefusesBadFlagsAndListsTheRecipes) {
  EXPECT_NE(lowbit_cli("pack-dataset --out x").code, 0);  // --data-dir is required
  const test::CliRun bad = lowbit_cli(train_args(dir_.file("folder"), "r") + " --bad-images maybe");
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output, HasSubstr("bad-images"));
  const test::CliRun missing = lowbit_cli(train_args(dir_.file("nowhere"), "r"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.output, HasSubstr("not a folder"));
  const test::CliRun recipes = lowbit_cli("train --recipe list");
  EXPECT_THAT(recipes.output, AllOf(HasSubstr("ewgs-imagenet"), HasSubstr("daq-imagenet"), HasSubstr("sat-imagenet")));
  EXPECT_THAT(lowbit_cli("pack-dataset --help").output, AllOf(HasSubstr("--size"), Not(HasSubstr("--model"))));
}

}  // namespace
}  // namespace lowbit
#endif
