// BatchSource: what the training loop reads batches from, epoch by epoch. The in-memory
// DataLoader (loader.h) and the streaming ImageLoader (image_loader.h) implement it.
//   source.start_epoch(e);  while (source.next(batch)) { ... }
// Batches are f32 NHWC images, normalized, with i32 labels, on the source's device.
#pragma once

#include <cstdint>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::data {

struct Batch {
  Tensor images;                 // f32 [B, H, W, C]
  Tensor labels;                 // i32 [B]
  std::vector<int64_t> indices;  // the examples' indices in the dataset
  int64_t number = -1;           // its 0-based place among the epoch's batches (-1: not said)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

class LOWBIT_API BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void start_epoch(int64_t epoch) = 0;  // rewinds and fixes the epoch's order and augmentation
  virtual bool next(Batch& batch) = 0;          // the next batch; false once the epoch is done
  virtual int64_t num_batches() const = 0;      // per epoch
  virtual int64_t num_examples() const = 0;
  virtual int64_t epoch() const = 0;
};

}  // namespace lowbit::data
