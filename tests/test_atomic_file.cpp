// Tests for atomic file replacement (core/io/atomic_file.h): the old file survives a failing
// writer, no temporary is left behind, and system errors name the path and the errno text.
#include "core/io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "tests/file_util.h"

namespace fs = std::filesystem;
using lowbit::io::FileSink;
using lowbit::io::write_file_atomically;
using ::testing::HasSubstr;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class AtomicFileTest : public ::testing::Test {
 protected:
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_.path())) names.push_back(e.path().filename().string());
    return names;
  }
  lowbit::test::TempDir dir_{"atomic"};
};

TEST_F(AtomicFileTest, WritesAndReplaces) {
  const std::string p = dir_.file("f.json");
  write_file_atomically(p, std::string_view("first"));
  EXPECT_EQ(read_text(p), "first");
  size_t written = 0;
  write_file_atomically(p, [&](FileSink& sink) {
    sink.write("sec", 3);
    sink.write(std::string_view("ond"));
    written = sink.bytes_written();
  });
  EXPECT_EQ(written, 6u);
  EXPECT_EQ(read_text(p), "second");
  write_file_atomically(p, std::string_view(""));
  EXPECT_EQ(read_text(p), "");
  EXPECT_EQ(entries(), std::vector<std::string>{"f.json"});
}

TEST_F(AtomicFileTest, KeepsTheOldFileWhenTheWriterThrows) {
  const std::string p = dir_.file("ckpt.bin");
  write_file_atomically(p, std::string_view("old contents"));
  std::string big(1 << 20, 'x');
  EXPECT_THROW(write_file_atomically(p,
                                     [&](FileSink& sink) {
                                       sink.write(big);  // a megabyte reaches the temporary...
                                       throw std::runtime_error("writer failed midway");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read_text(p), "old contents");
  EXPECT_EQ(entries(), std::vector<std::string>{"ckpt.bin"});  // ...and is gone again

  // The same without an old file: nothing is created.
  const std::string q = dir_.file("new.bin");
  EXPECT_THROW(write_file_atomically(q, [](FileSink&) { LOWBIT_FAIL("boom"); }), lowbit::Error);
  EXPECT_FALSE(fs::exists(q));
  EXPECT_EQ(entries(), std::vector<std::string>{"ckpt.bin"});
}

TEST_F(AtomicFileTest, NamesThePathAndTheErrno) {
  const std::string p = (dir_.path() / "no" / "such" / "folder.bin").string();
  try {
    write_file_atomically(p, std::string_view("x"));
    ADD_FAILURE() << "expected lowbit::Error";
  } catch (const lowbit::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write " + p + ": creating a temporary file in"));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  // A folder in the way of the rename.
  fs::create_directories(dir_.path() / "taken");
  fs::create_directories(dir_.path() / "taken" / "inside");
  try {
    write_file_atomically(dir_.file("taken"), std::string_view("x"));
    ADD_FAILURE() << "expected lowbit::Error";
  } catch (const lowbit::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write " + dir_.file("taken") + ": renaming"));
    EXPECT_THAT(e.what(), HasSubstr("Is a directory"));
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"taken"});
  EXPECT_THAT(([&] {
                try {
                  write_file_atomically((dir_.path() / "").string(), std::string_view("x"));
                } catch (const lowbit::Error& e) {
                  return std::string(e.what());
                }
                return std::string();
              }()),
              HasSubstr("not a file name"));
}

}  // namespace
