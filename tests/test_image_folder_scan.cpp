// Tests for image-folder scanning (core/data/image_folder.h): classes and files in the order of
// torchvision's ImageFolder (sorted class names, sorted(os.walk(...)), sorted file names),
// extensions matched in any case, other files left out, and refused layouts named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/data/image_folder.h"
#include "core/error.h"
#include "tests/file_util.h"

namespace lowbit::data {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An empty file (scanning does not decode).
void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  test::write_bytes(p, {0});
}

TEST(ImageFolderScan, ClassesAndFilesInTorchvisionOrder) {
  test::TempDir dir("scan_order");
  const fs::path split = dir.path() / "train";
  // Class names sort byte-wise as Python sorts str: upper case before lower case, "n01" < "n10".
  touch(split / "b" / "2.png");
  touch(split / "b" / "10.png");  // "10.png" < "2.png"
  touch(split / "B" / "x.JPEG");
  touch(split / "a" / "z.jpg");
  touch(split / "a" / "sub" / "y.png");  // sorted(os.walk): ".../a" < ".../a/sub" < ".../a/sub/deeper" < ".../a/sub2"
  touch(split / "a" / "sub2" / "w.Png");
  touch(split / "a" / "sub" / "deeper" / "v.jpeg");
  touch(split / "a" / "notes.txt");  // not an image: left out
  touch(split / "a" / "old.bmp");    // an image lowbit cannot decode: left out, listed
  touch(split / "stray.png");        // a file beside the class folders is no class
  const ImageFolderIndex idx = scan_image_folder(split.string() + "/");  // a trailing slash is ignored
  EXPECT_THAT(idx.classes, ElementsAre("B", "a", "b"));
  const std::string s = split.string();
  EXPECT_THAT(idx.paths, ElementsAre(s + "/B/x.JPEG", s + "/a/z.jpg", s + "/a/sub/y.png", s + "/a/sub/deeper/v.jpeg",
                                     s + "/a/sub2/w.Png", s + "/b/10.png", s + "/b/2.png"));
  EXPECT_THAT(idx.labels, ElementsAre(0, 1, 1, 1, 1, 2, 2));
  EXPECT_THAT(idx.unsupported, ElementsAre(s + "/a/old.bmp"));
}

TEST(ImageFolderScan, FollowsLinkedClassFolders) {
  test::TempDir dir("scan_links");
  touch(dir.path() / "elsewhere" / "cat" / "1.png");
  touch(dir.path() / "val" / "dog" / "1.png");
  fs::create_directory_symlink(dir.path() / "elsewhere" / "cat", dir.path() / "val" / "cat");
  const ImageFolderIndex idx = scan_image_folder(image_folder_split(dir.path().string(), false));
  EXPECT_THAT(idx.classes, ElementsAre("cat", "dog"));
  EXPECT_EQ(idx.paths.size(), 2u);
}

TEST(ImageFolderScan, ExtensionsMatchInAnyCase) {
  for (const char* name : {"a.jpg", "a.JPG", "a.Jpeg", "x.y.png", "a.PNG"})
    EXPECT_TRUE(is_decodable_image_name(name)) << name;
  for (const char* name : {"a.gif", "jpg", "a.jpg.txt", "a.bmp", "a"})
    EXPECT_FALSE(is_decodable_image_name(name)) << name;
}

TEST(ImageFolderScan, RefusesBadLayoutsNamingTheFolder) {
  test::TempDir dir("scan_bad");
  EXPECT_THAT(error_of([&] { scan_image_folder(dir.file("train")); }),
              AllOf(HasSubstr(dir.file("train")), HasSubstr("not a folder"), HasSubstr("ROOT/train/<class>")));
  touch(dir.path() / "train" / "loose.png");
  EXPECT_THAT(error_of([&] { scan_image_folder(dir.file("train")); }), HasSubstr("no class folders"));
  touch(dir.path() / "train" / "cat" / "1.png");
  fs::create_directories(dir.path() / "train" / "empty_class");
  touch(dir.path() / "train" / "empty_class" / "readme.txt");
  EXPECT_THAT(error_of([&] { scan_image_folder(dir.file("train")); }),
              AllOf(HasSubstr("empty_class"), HasSubstr("holds no .jpg, .jpeg or .png file")));
}

}  // namespace
}  // namespace lowbit::data
