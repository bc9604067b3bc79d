// Test helpers for tests that read and write files: a unique temporary folder per test (TempDir,
// removed again when it goes out of scope), whole files as bytes (plain or gzip), and error_of,
// which returns the lowbit::Error message a call throws.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace lowbit::test {

using Bytes = std::vector<uint8_t>;

// Runs fn and returns the lowbit::Error message it throws ("" and a failure otherwise).
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected lowbit::Error";
  return "";
}

// The whole file as bytes (empty if it cannot be read).
inline Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// Writes b as the whole file p.
inline void write_bytes(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << p;
}

// Writes b gzip-compressed as the whole file p.
inline void write_gz(const std::filesystem::path& p, const Bytes& b) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr) << p;
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// A fresh folder temp_directory_path()/lowbit_test_<name>_<stamp>_<random>, created on
// construction and removed with everything in it on destruction. As a fixture member:
//   class MyTest : public ::testing::Test { protected: TempDir dir_{"my"}; };
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("lowbit_test_" + name + "_" + std::to_string(stamp) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the folder.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes b as `name` (gzip-compressed if the name ends in .gz) and returns its path.
  std::string put(const std::string& name, const Bytes& b) const {
    std::filesystem::path p = path_ / name;
    if (p.extension() == ".gz") write_gz(p, b);
    else write_bytes(p, b);
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace lowbit::test
