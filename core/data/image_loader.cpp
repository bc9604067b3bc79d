// ImageLoader: example selection, the per-batch parallel decode + transform (+ normalization for
// the CPU) into the batch (u8 and pinned for CUDA), the compaction of skipped examples, and the
// upload + normalization on CUDA.
#include "core/data/image_loader.h"

#include <cstring>
#include <iostream>
#include <utility>

#include "core/data/augment.h"
#include "core/data/loader.h"
#include "core/data/normalize.h"
#include "core/data/prefetch.h"
#include "core/data/thread_pool.h"
#include "core/error.h"
#include "kernels/cuda/staging.h"

namespace lowbit::data {

namespace {

// A pinned block holding a u8 batch, given back when dropped.
class Staged {
 public:
  Staged() = default;
  explicit Staged(cuda::StagingBlock* block) : block_(block) {}
  Staged(Staged&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  Staged& operator=(Staged&& o) noexcept {
    if (this != &o) {
      reset();
      block_ = std::exchange(o.block_, nullptr);
    }
    return *this;
  }
  ~Staged() { reset(); }
  cuda::StagingBlock* get() const { return block_; }
  cuda::StagingBlock* release() { return std::exchange(block_, nullptr); }
  void reset() {
    if (block_) cuda::staging_release(std::exchange(block_, nullptr));
  }

 private:
  cuda::StagingBlock* block_ = nullptr;
};

}  // namespace

// A built batch: finished (CPU device: f32 images), or u8 pixels in `staged` or `pixels` awaiting
// the upload and the normalization on the device.
struct ImageLoader::Prepared {
  Batch batch;  // labels (CPU) and indices; images too when finished
  Staged staged;
  Tensor pixels;  // u8 on the CPU when not staged
  Shape shape;    // of the u8 batch
};

struct ImageLoader::Worker {
  Worker(int64_t count, int64_t capacity, std::function<Prepared(int64_t)> make)
      : prefetcher(count, capacity, std::move(make)) {}
  Prefetcher<Prepared> prefetcher;
};

ImageLoader::ImageLoader(std::shared_ptr<const ImageSource> source, ImageLoaderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  const ImageLoaderOptions& o = options_;
  LOWBIT_CHECK(source_ != nullptr, "ImageLoader: no source");
  LOWBIT_CHECK(o.batch_size >= 1, "ImageLoader: batch_size must be >= 1, got ", o.batch_size);
  LOWBIT_CHECK(o.limit >= 0, "ImageLoader: limit must be >= 0 (0: all examples), got ", o.limit);
  LOWBIT_CHECK(o.threads >= 0, "ImageLoader: threads must be >= 0 (0: every core), got ", o.threads);
  LOWBIT_CHECK(o.prefetch >= 0, "ImageLoader: prefetch must be >= 0, got ", o.prefetch);
  check_shard(o.shard, "ImageLoader");
  o.transform.check();
  lut_ = normalization_table(o.mean, o.std, 3);  // throws for a bad mean or std
  const int64_t n = source_->size();
  LOWBIT_CHECK(n > 0, "ImageLoader: ", source_->description(), " has no examples");
  const int64_t used = o.limit > 0 && o.limit < n ? o.limit : n;
  examples_.resize(static_cast<size_t>(used));
  for (int64_t k = 0; k < used; ++k) examples_[static_cast<size_t>(k)] = used == n ? k : k * n / used;
  pool_ = std::make_unique<ThreadPool>(o.threads == 0 ? default_thread_count() : o.threads);
  start_epoch(0);
}

ImageLoader::~ImageLoader() = default;  // ~Worker joins the thread before the pool and source go

int64_t ImageLoader::num_batches() const {
  const int64_t b = options_.batch_size, n = num_examples();
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void ImageLoader::start_epoch(int64_t epoch) {
  worker_.reset();  // first: the thread reads order_
  epoch_ = epoch;
  const int64_t n = num_examples();
  order_.resize(static_cast<size_t>(n));
  if (options_.shuffle) {
    const std::vector<int64_t> perm = shuffled_order(n, options_.seed, epoch);
    for (int64_t k = 0; k < n; ++k)
      order_[static_cast<size_t>(k)] = examples_[static_cast<size_t>(perm[static_cast<size_t>(k)])];
  } else {
    order_ = examples_;
  }
  cursor_ = 0;
}

std::vector<std::string> ImageLoader::skipped() const {
  std::lock_guard<std::mutex> lock(skipped_mutex_);
  return skipped_;
}

void ImageLoader::note_skipped(const std::string& message) const {
  {
    std::lock_guard<std::mutex> lock(skipped_mutex_);
    if (!skipped_set_.insert(message).second) return;  // reported in an earlier epoch
    skipped_.push_back(message);
  }
  const std::string line = "image loader: skipped " + message;
  if (options_.report)
    options_.report(line);
  else
    std::cerr << line << std::endl;
}

ImageLoader::Prepared ImageLoader::make_batch(int64_t b) const {
  const ImageLoaderOptions& o = options_;
  const int64_t start = b * o.batch_size;
  const std::vector<int64_t> positions =
      shard_positions(start, std::min(o.batch_size, num_examples() - start), o.shard);
  const auto n = static_cast<int64_t>(positions.size());
  Prepared p;
  p.batch.number = b;    // so that a caller can tell that batches were passed over
  if (n == 0) return p;  // an empty share of a sharded loader: passed over by next()
  const int64_t s = o.transform.size, slot = s * s * 3;
  const bool finish_here = o.device.is_cpu();  // normalized by the workers, straight into the batch
  uint8_t* pixels = nullptr;    // u8 slots (CUDA)
  float* normalized = nullptr;  // f32 slots (CPU)
  if (finish_here) {
    p.batch.images = Tensor::empty({n, s, s, 3}, DType::f32, Device::cpu());
    normalized = p.batch.images.data<float>();
  } else {
    p.staged = Staged(cuda::staging_acquire(static_cast<size_t>(n * slot)));
    if (p.staged.get()) {
      pixels = static_cast<uint8_t*>(cuda::staging_data(p.staged.get()));
    } else {
      p.pixels = Tensor::empty({n, s, s, 3}, DType::u8, Device::cpu());
      pixels = p.pixels.data<uint8_t>();
    }
  }
  std::vector<std::string> errors(static_cast<size_t>(n));
  pool_->run(n, [&](int64_t k) {
    const int64_t idx = order_[static_cast<size_t>(positions[static_cast<size_t>(k)])];
    try {
      const Image img = source_->load(idx);
      LOWBIT_CHECK(img.channels == 3, source_->name(idx), ": ", img.channels, " channels (expected RGB)");
      const CropChoice choice = choose_crop(o.transform, o.seed, epoch_, idx, img.height, img.width);
      if (finish_here) {
        thread_local std::vector<uint8_t> u8;
        u8.resize(static_cast<size_t>(slot));
        apply_crop(img, choice, u8.data());
        normalize_with_table(u8.data(), slot, 3, lut_.data(), normalized + k * slot);
      } else {
        apply_crop(img, choice, pixels + k * slot);
      }
    } catch (const Error& e) {
      if (!o.skip_bad) throw;
      errors[static_cast<size_t>(k)] = e.what();
    }
  });
  // Close the gaps of skipped examples, keeping the order.
  std::vector<int32_t> labels;
  int64_t kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t idx = order_[static_cast<size_t>(positions[static_cast<size_t>(k)])];
    if (!errors[static_cast<size_t>(k)].empty()) {
      note_skipped(errors[static_cast<size_t>(k)]);
      continue;
    }
    if (kept != k && finish_here)
      std::memmove(normalized + kept * slot, normalized + k * slot, static_cast<size_t>(slot) * sizeof(float));
    else if (kept != k)
      std::memmove(pixels + kept * slot, pixels + k * slot, static_cast<size_t>(slot));
    labels.push_back(source_->label(idx));
    p.batch.indices.push_back(idx);
    ++kept;
  }
  p.shape = {kept, s, s, 3};
  p.batch.labels = Tensor::from_vector(labels, {kept}, Device::cpu());
  if (kept != n) {
    if (finish_here)
      p.batch.images = p.batch.images.slice(0, 0, kept).contiguous();
    else if (p.pixels.defined())
      p.pixels = p.pixels.slice(0, 0, kept).contiguous();
  }
  return p;
}

bool ImageLoader::next(Batch& batch) {
  const int64_t total = num_batches();
  while (cursor_ < total) {
    Prepared p;
    if (options_.prefetch > 0) {
      if (!worker_) {
        const int64_t first = cursor_;
        worker_ = std::make_unique<Worker>(total - first, options_.prefetch,
                                           [this, first](int64_t i) { return make_batch(first + i); });
      }
      if (!worker_->prefetcher.pop(p)) return false;
    } else {
      p = make_batch(cursor_);
    }
    ++cursor_;
    if (cursor_ == total) worker_.reset();  // the epoch is done: let the thread go
    if (p.batch.size() == 0) continue;      // every image of the batch was skipped
    const Device device = options_.device;
    if (!device.is_cpu()) {
      Tensor u8;
      if (p.staged.get()) {
        u8 = Tensor::empty(p.shape, DType::u8, device);
        cuda::staging_upload(p.staged.release(), u8.data<uint8_t>(), device.index,
                             static_cast<size_t>(shape_numel(p.shape)));
      } else {
        u8 = p.pixels.to(device);
      }
      p.batch.images = normalize_images(u8, options_.mean, options_.std);
      p.batch.labels = p.batch.labels.to(device);
    }
    batch = std::move(p.batch);
    return true;
  }
  return false;
}

}  // namespace lowbit::data
