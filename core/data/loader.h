// DataLoader: a BatchSource (batch_source.h) over an in-memory ImageDataset (NHWC u8). Each epoch
// visits the examples in a seeded random order (or in file order without shuffling) and yields
// batches of
//   images f32 [B, H, W, C]: optional random crop (zero padding) and horizontal flip, then
//                            (pixel / 255 - mean[c]) / std[c]   (see core/data/augment.h)
//   labels i32 [B]
// Models take the 4-d NHWC batch as it is (an MLP starts with a Flatten).
// Determinism: the order is a pure function of (seed, epoch): Fisher-Yates driven by Philox with
// key `seed` and stream 2^63 + epoch (streams a Generator never reaches); each example's crop and
// flip are a pure function of (seed, epoch, its index in the dataset). A resumed run rebuilds both,
// and the background thread gives the same batches as building them in next().
// Prefetch: with prefetch > 0 a background thread builds the next batches of the epoch while the
// caller trains on the current one; start_epoch() or the destructor stop it cleanly at any point,
// and an exception raised while building a batch is re-thrown by next().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/data/batch_source.h"
#include "core/data/dataset.h"
#include "core/data/shard.h"
#include "core/device.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::data {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop a final batch smaller than batch_size
  uint64_t seed = 0;
  // Normalization of the [0, 1] pixel values: one value per channel, or one for all channels.
  std::vector<float> mean = {0.f}, std = {1.f};
  int64_t limit = 0;            // use only the first `limit` examples of the dataset (0: all)
  int64_t crop_padding = 0;     // > 0: random crop of the image's own size after zero padding
  bool horizontal_flip = false;  // mirror left-right with probability 1/2
  int64_t prefetch = 2;          // batches built ahead by a background thread (0: built in next())
  // Optional: applied to each batch, on the CPU and on the thread that builds it, before the
  // copy to `device` (e.g. extra augmentation). Its exceptions surface in next().
  std::function<void(Batch&)> transform = nullptr;
  // Data-parallel: this process's share of each batch (core/data/shard.h); batch_size stays the
  // global batch, num_batches() and num_examples() the global counts; empty shares are passed over.
  Shard shard;
  // Where batches are delivered. TODO(CUDA backend issue): pinned host buffers and asynchronous
  // copies on a stream; for now next() does a synchronous images.to(device) on the caller's thread.
  Device device = Device::cpu();
};

class LOWBIT_API DataLoader : public BatchSource {
 public:
  // Throws on batch_size < 1, a negative limit or crop_padding, bad mean/std, an empty dataset or
  // one whose buffers do not match its shape.
  DataLoader(ImageDataset data, LoaderOptions options);
  ~DataLoader() override;  // stops the prefetch thread, even in the middle of an epoch
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  void start_epoch(int64_t epoch) override;  // rewinds and fixes the epoch's order and augmentation
  bool next(Batch& batch) override;          // the next batch; false once the epoch is done

  int64_t num_batches() const override;  // per epoch, honouring drop_last
  int64_t num_examples() const override { return data_.count; }  // after `limit`
  int64_t epoch() const override { return epoch_; }
  const ImageDataset& dataset() const { return data_; }  // after `limit`
  const LoaderOptions& options() const { return options_; }

 private:
  Batch make_batch(int64_t b) const;  // batch b of the current epoch, on the CPU (thread-safe)

  struct Worker;
  ImageDataset data_;
  LoaderOptions options_;
  std::vector<float> lut_;  // [channels * 256]: normalized value of each pixel byte per channel
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;  // batches handed out this epoch
  std::unique_ptr<Worker> worker_;  // the epoch's prefetch thread, started by the first next()
};

// The epoch's visiting order (a permutation of 0..n-1), as DataLoader uses it.
LOWBIT_API std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace lowbit::data
