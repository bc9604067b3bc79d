// Reader for the CIFAR-10 binary version: data_batch_1..5.bin (train) and test_batch.bin (test),
// each plain or gzip-compressed (.bin.gz). A file is a run of 3073-byte records: one label byte
// (0..9) then 3072 pixel bytes as three 32x32 row-major planes R, G, B (CHW). The reader
// transposes them to the NHWC layout of ImageDataset: [N, 32, 32, 3].
#pragma once

#include <string>

#include "core/data/dataset.h"
#include "core/export.h"

namespace lowbit::data {

inline constexpr int64_t kCifarSide = 32, kCifarChannels = 3;
inline constexpr int64_t kCifarRecordBytes = 1 + kCifarSide * kCifarSide * kCifarChannels;  // 3073

// Parses one batch file (plain or .gz). Throws lowbit::Error naming the file when it cannot be
// read, is not a whole number of records, or holds a label > 9 (naming the record).
LOWBIT_API ImageDataset read_cifar10_file(const std::string& path);

// The train split (data_batch_1..5, in that order: 50000 images) or the test split (test_batch:
// 10000 images) from dir; each file may be NAME.bin or NAME.bin.gz. A missing file is reported
// with every name tried.
LOWBIT_API ImageDataset load_cifar10_split(const std::string& dir, bool train);

// $LOWBIT_CIFAR10_DIR if set, else "" (CIFAR-10 has no standard system location: the caller
// must be given a folder).
LOWBIT_API std::string default_cifar10_dir();

}  // namespace lowbit::data
