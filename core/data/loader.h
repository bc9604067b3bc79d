// BatchLoader: an in-memory batch iterator over an ImageDataset. Each epoch visits the examples
// in a seeded random order (or in file order without shuffling) and yields batches of
//   images f32 [B, rows*cols]: pixel/255, then (x - mean) / std
//   labels i32 [B]
// The order is a pure function of (seed, epoch): Fisher-Yates driven by Philox with key `seed`
// and stream 2^63 + epoch (streams a Generator never reaches), so a resumed run can rebuild it.
#pragma once

#include <cstdint>

#include "core/data/idx.h"
#include "core/device.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::data {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop a final batch smaller than batch_size
  uint64_t seed = 0;
  float mean = 0.f, std = 1.f;  // normalization of the [0, 1] pixel values
  Device device = Device::cpu();
};

struct Batch {
  Tensor images;  // f32 [B, rows*cols]
  Tensor labels;  // i32 [B]
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

class LOWBIT_API BatchLoader {
 public:
  // Throws on batch_size < 1, std <= 0 or non-finite mean/std, and on an empty dataset.
  BatchLoader(ImageDataset data, LoaderOptions options);

  void start_epoch(int64_t epoch);  // rewinds and fixes the epoch's order
  bool next(Batch& batch);          // the next batch; false once the epoch is done

  int64_t num_batches() const;  // per epoch, honouring drop_last
  int64_t num_examples() const { return data_.count; }
  const ImageDataset& dataset() const { return data_; }
  const LoaderOptions& options() const { return options_; }

 private:
  ImageDataset data_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
  float lut_[256];  // normalized value of each pixel byte
};

// The epoch's visiting order (a permutation of 0..n-1), as BatchLoader uses it.
LOWBIT_API std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace lowbit::data
