// Test fixtures for the training library and the CLI: a fresh temporary folder, and tiny
// Fashion-MNIST-format (IDX files) and CIFAR-10-format (binary batches) datasets whose classes are
// learnable (class-dependent pixels plus noise), small enough to train in milliseconds.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace lowbit::train_test {

namespace fs = std::filesystem;

// An empty folder under the test temp dir (removed first if it exists).
inline fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("lowbit_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Writes an unsigned-byte IDX file.
inline void write_idx(const fs::path& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  const uint8_t head[4] = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  f.write(reinterpret_cast<const char*>(head), 4);
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((d >> s) & 0xff));
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// n training and n test images of side x side pixels in a fresh folder; label i % 10.
inline fs::path tiny_dataset(const std::string& name, uint32_t n, uint32_t side = 4) {
  fs::path dir = fresh_dir("data_" + name);
  const uint32_t pixels = side * side;
  for (const char* split : {"train", "t10k"}) {
    const uint32_t salt = split[0] == 't' && split[1] == '1' ? 7 : 3;
    std::vector<uint8_t> images(static_cast<size_t>(n) * pixels), labels(n);
    for (uint32_t i = 0; i < n; ++i) {
      labels[i] = static_cast<uint8_t>(i % 10);
      for (uint32_t p = 0; p < pixels; ++p) {
        const uint32_t noise = (i * 37 + p * 11 + salt * 101) % 97;
        const bool lit = p % 10 == labels[i];
        images[static_cast<size_t>(i) * pixels + p] = static_cast<uint8_t>(lit ? 150 + noise : noise);
      }
    }
    write_idx(dir / (std::string(split) + "-images-idx3-ubyte"), {n, side, side}, images);
    write_idx(dir / (std::string(split) + "-labels-idx1-ubyte"), {n}, labels);
  }
  return dir;
}

// A tiny CIFAR-10-format dataset: data_batch_1..5.bin with n records each and test_batch.bin with
// n records (label byte, then 32x32 R, G, B planes); label i % 10, class-dependent colours plus noise.
inline fs::path tiny_cifar10(const std::string& name, uint32_t n) {
  fs::path dir = fresh_dir("cifar_" + name);
  auto write_batch = [&](const std::string& file, uint32_t salt) {
    std::ofstream f(dir / file, std::ios::binary);
    for (uint32_t i = 0; i < n; ++i) {
      const auto label = static_cast<uint8_t>(i % 10);
      f.put(static_cast<char>(label));
      for (uint32_t c = 0; c < 3; ++c)
        for (uint32_t p = 0; p < 32 * 32; ++p) {
          const uint32_t noise = (i * 37 + p * 11 + c * 53 + salt * 101) % 61;
          f.put(static_cast<char>(static_cast<uint8_t>((label * 19 + c * 70) % 190 + noise)));
        }
    }
  };
  for (uint32_t b = 1; b <= 5; ++b) write_batch("data_batch_" + std::to_string(b) + ".bin", b);
  write_batch("test_batch.bin", 9);
  return dir;
}

// The message of the lowbit::Error `fn` throws ("" and a test failure if it throws none).
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected lowbit::Error";
  return "";
}

}  // namespace lowbit::train_test
