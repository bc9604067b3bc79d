// DataLoader: the seeded permutation, the assembly of one batch (this shard's share of it;
// gather, augment, normalize: one pass over B*H*W*C bytes through a per-channel lookup table),
// and the prefetch thread.
#include "core/data/loader.h"

#include <algorithm>
#include <numeric>

#include "core/data/augment.h"
#include "core/data/prefetch.h"
#include "core/error.h"
#include "kernels/philox.h"

namespace lowbit::data {

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t stream = (uint64_t{1} << 63) + static_cast<uint64_t>(epoch);
  for (int64_t i = n - 1; i > 0; --i) {
    // j uniform in [0, i] from 64 random bits (bias below 2^-32 for any n that fits memory).
    const uint64_t hi = philox::bits(seed, stream, 2 * static_cast<uint64_t>(i));
    const uint64_t lo = philox::bits(seed, stream, 2 * static_cast<uint64_t>(i) + 1);
    const uint64_t r = (hi << 32) | lo;
    const auto j = static_cast<int64_t>(r % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

struct DataLoader::Worker {
  Worker(int64_t count, int64_t capacity, std::function<Batch(int64_t)> make)
      : prefetcher(count, capacity, std::move(make)) {}
  Prefetcher<Batch> prefetcher;
};

DataLoader::DataLoader(ImageDataset data, LoaderOptions options) : data_(std::move(data)), options_(std::move(options)) {
  const LoaderOptions& o = options_;
  LOWBIT_CHECK(o.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", o.batch_size);
  LOWBIT_CHECK(o.limit >= 0, "DataLoader: limit must be >= 0 (0: all examples), got ", o.limit);
  LOWBIT_CHECK(o.crop_padding >= 0 && o.crop_padding <= (int64_t{1} << 30),
               "DataLoader: crop_padding must be in [0, 2^30], got ", o.crop_padding);
  LOWBIT_CHECK(o.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", o.prefetch);
  check_shard(o.shard, "DataLoader");
  LOWBIT_CHECK(data_.count > 0 && data_.height > 0 && data_.width > 0 && data_.channels > 0,
               "DataLoader: empty dataset (", data_.count, " images of ", data_.height, "x", data_.width, "x",
               data_.channels, ")");
  LOWBIT_CHECK(static_cast<int64_t>(data_.images.size()) == data_.count * data_.image_size() &&
                   static_cast<int64_t>(data_.labels.size()) == data_.count,
               "DataLoader: dataset buffers (", data_.images.size(), " image bytes, ", data_.labels.size(),
               " labels) do not match ", data_.count, " images of ", data_.height, "x", data_.width, "x",
               data_.channels);
  lut_ = normalization_table(o.mean, o.std, data_.channels);
  if (o.limit > 0 && o.limit < data_.count) {
    data_.count = o.limit;
    data_.images.resize(static_cast<size_t>(data_.count * data_.image_size()));
    data_.labels.resize(static_cast<size_t>(data_.count));
  }
  start_epoch(0);
}

DataLoader::~DataLoader() = default;  // ~Worker joins the thread before the data goes

int64_t DataLoader::num_batches() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? data_.count / b : (data_.count + b - 1) / b;
}

void DataLoader::start_epoch(int64_t epoch) {
  worker_.reset();  // first: the thread reads order_
  epoch_ = epoch;
  if (options_.shuffle) {
    order_ = shuffled_order(data_.count, options_.seed, epoch);
  } else {
    order_.resize(static_cast<size_t>(data_.count));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
  cursor_ = 0;
}

Batch DataLoader::make_batch(int64_t b) const {
  const int64_t start = b * options_.batch_size;
  const std::vector<int64_t> positions =
      shard_positions(start, std::min(options_.batch_size, data_.count - start), options_.shard);
  const auto n = static_cast<int64_t>(positions.size());
  Batch batch;
  if (n == 0) return batch;  // an empty share of a sharded loader: passed over by next()
  const int64_t h = data_.height, w = data_.width, c = data_.channels, size = data_.image_size();
  batch.images = Tensor::empty({n, h, w, c}, DType::f32, Device::cpu());
  batch.labels = Tensor::empty({n}, DType::i32, Device::cpu());
  for (int64_t p : positions) batch.indices.push_back(order_[static_cast<size_t>(p)]);
  float* x = batch.images.data<float>();
  int32_t* y = batch.labels.data<int32_t>();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t idx = batch.indices[static_cast<size_t>(k)];
    const AugmentChoice choice =
        augment_choice(options_.seed, epoch_, idx, options_.crop_padding, options_.horizontal_flip);
    augment_image(data_.images.data() + idx * size, h, w, c, options_.crop_padding, choice, lut_.data(),
                  x + k * size);
    y[k] = data_.labels[static_cast<size_t>(idx)];
  }
  if (options_.transform) options_.transform(batch);
  return batch;
}

bool DataLoader::next(Batch& batch) {
  const int64_t total = num_batches();
  Batch made;
  do {  // passes over an empty share (sharded loaders)
    if (cursor_ >= total) return false;
    if (options_.prefetch > 0) {
      if (!worker_) {
        const int64_t first = cursor_;
        worker_ = std::make_unique<Worker>(total - first, options_.prefetch,
                                           [this, first](int64_t i) { return make_batch(first + i); });
      }
      if (!worker_->prefetcher.pop(made)) return false;
    } else {
      made = make_batch(cursor_);
    }
    ++cursor_;
    if (cursor_ == total) worker_.reset();  // the epoch is done: let the thread go
  } while (made.size() == 0);
  // TODO(CUDA backend issue): pinned staging buffers and cudaMemcpyAsync on a copy stream.
  const Device device = options_.device;
  if (!device.is_cpu()) {
    made.images = made.images.to(device);
    made.labels = made.labels.to(device);
  }
  batch = std::move(made);
  return true;
}

}  // namespace lowbit::data
