// ImageLoader: a BatchSource (batch_source.h) that streams an ImageSource (an image folder or a
// packed dataset) instead of holding it in memory. Each batch is built by a thread pool: every
// example is read and decoded, transformed (image_transform.h: RandomResizedCrop + flip for
// training, Resize + CenterCrop for evaluation) into its slot of the batch [B, S, S, 3] and
// normalized to f32 (normalize.h), where depends on the target device:
//   CPU:  each worker normalizes its image straight into the f32 batch (the same table as
//         normalize_images), so the caller gets finished batches;
//   CUDA: the u8 batch is built straight into a page-locked block (kernels/cuda/staging.h),
//         copied asynchronously on next() and normalized by a kernel (4x fewer bytes to copy
//         than f32); without pinned memory it falls back to an ordinary copy.
// A background thread builds the next `prefetch` batches while the caller trains.
// Order and augmentation are pure functions of (seed, epoch, example index), as in DataLoader, so
// the batches do not depend on the thread count, the prefetching or where a run was resumed.
// Bad images: an example whose image cannot be read or decoded is reported once (its message,
// which starts with its path, goes to `report`, default stderr) and left out of its batch, which
// is then smaller (a batch left empty is passed over); with skip_bad = false the error is
// re-thrown by next() instead. skipped() lists what was left out so far. Batch::number says which
// batch of the epoch next() returned (data-parallel training checks that no rank passed one over).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/data/batch_source.h"
#include "core/data/image_source.h"
#include "core/data/image_transform.h"
#include "core/data/shard.h"
#include "core/device.h"
#include "core/export.h"

namespace lowbit::data {

class ThreadPool;

struct ImageLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  std::vector<float> mean = {0.f}, std = {1.f};  // per channel or one for all (normalize.h)
  // > 0: only `limit` examples, spread evenly over the split (example floor(k * size / limit) for
  // k < limit), so every class of a class-sorted folder keeps its share.
  int64_t limit = 0;
  ImageTransform transform;
  int64_t threads = 0;   // decoding threads, the building thread included (0: every core)
  int64_t prefetch = 2;  // batches built ahead by a background thread (0: built in next())
  bool skip_bad = true;  // false: a bad image stops the epoch with its error
  std::function<void(const std::string&)> report = nullptr;  // one line per skipped image (default: stderr)
  Device device = Device::cpu();
  // Data-parallel: this process's share of each batch (core/data/shard.h); batch_size stays the
  // global batch, num_batches() and num_examples() the global counts.
  Shard shard;
};

class LOWBIT_API ImageLoader : public BatchSource {
 public:
  // Throws on batch_size < 1, negative limit/threads/prefetch, a bad transform or normalization,
  // or an empty source.
  ImageLoader(std::shared_ptr<const ImageSource> source, ImageLoaderOptions options);
  ~ImageLoader() override;  // stops the prefetch thread, even in the middle of an epoch
  ImageLoader(const ImageLoader&) = delete;
  ImageLoader& operator=(const ImageLoader&) = delete;

  void start_epoch(int64_t epoch) override;
  bool next(Batch& batch) override;
  int64_t num_batches() const override;
  int64_t num_examples() const override { return static_cast<int64_t>(examples_.size()); }
  int64_t epoch() const override { return epoch_; }

  const ImageSource& source() const { return *source_; }
  const ImageLoaderOptions& options() const { return options_; }
  int64_t num_classes() const { return static_cast<int64_t>(source_->classes().size()); }
  int64_t image_size() const { return options_.transform.size; }  // batches are [B, S, S, 3]
  std::vector<std::string> skipped() const;                       // messages of the images left out so far

 private:
  struct Prepared;
  struct Worker;
  Prepared make_batch(int64_t b) const;  // batch b of the current epoch (thread-safe)
  void note_skipped(const std::string& message) const;

  std::shared_ptr<const ImageSource> source_;
  ImageLoaderOptions options_;
  std::vector<int64_t> examples_;  // source indices in use (after limit)
  std::vector<float> lut_;         // normalization_table of mean and std (CPU batches)
  std::unique_ptr<ThreadPool> pool_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;  // the epoch's order, as source indices
  int64_t cursor_ = 0;
  std::unique_ptr<Worker> worker_;
  mutable std::mutex skipped_mutex_;
  mutable std::set<std::string> skipped_set_;
  mutable std::vector<std::string> skipped_;
};

}  // namespace lowbit::data
