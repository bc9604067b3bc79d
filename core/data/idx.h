// Reader for MNIST-style IDX files (plain or gzip-compressed), e.g. Fashion-MNIST.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/export.h"

namespace lowbit::data {

// Reads a whole file; if it starts with the gzip magic (1f 8b) it is inflated.
// Throws lowbit::Error naming the path on any failure (missing, unreadable, corrupt gzip).
LOWBIT_API std::vector<uint8_t> read_file_maybe_gzip(const std::string& path);

// One IDX array: its dimensions and row-major bytes (only type 0x08, unsigned byte).
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Parses an IDX file (plain or .gz). Refuses bad magic, unsupported types, a rank
// outside 1..4, truncated data and trailing bytes.
LOWBIT_API IdxArray read_idx(const std::string& path);

// Loads a 3-d image file [count, rows, cols] and a 1-d label file as an ImageDataset with
// channels = 1; counts must match and every label must be < num_classes.
LOWBIT_API ImageDataset load_idx_dataset(const std::string& images_path,
                                         const std::string& labels_path, int num_classes = 10);

// Loads the train or test (t10k) split from dir, accepting plain or .gz file names.
LOWBIT_API ImageDataset load_mnist_split(const std::string& dir, bool train);

// $LOWBIT_FASHION_MNIST_DIR if set, else where Debian's dataset-fashion-mnist installs it.
LOWBIT_API std::string default_fashion_mnist_dir();

}  // namespace lowbit::data
