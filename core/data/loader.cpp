// BatchLoader: the seeded permutation and the gather + normalize of each batch (one pass over
// B*rows*cols bytes through a 256-entry lookup table).
#include "core/data/loader.h"

#include <algorithm>
#include <cmath>
#include <numeric>

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

BatchLoader::BatchLoader(ImageDataset data, LoaderOptions options)
    : data_(std::move(data)), options_(options) {
  LOWBIT_CHECK(options_.batch_size >= 1, "BatchLoader: batch_size must be >= 1, got ", options_.batch_size);
  LOWBIT_CHECK(std::isfinite(options_.mean) && std::isfinite(options_.std) && options_.std > 0.f,
               "BatchLoader: need a finite mean and a finite std > 0, got mean ", options_.mean, " std ",
               options_.std);
  LOWBIT_CHECK(data_.count > 0 && data_.rows > 0 && data_.cols > 0, "BatchLoader: empty dataset (",
               data_.count, " images of ", data_.rows, "x", data_.cols, ")");
  LOWBIT_CHECK(static_cast<int64_t>(data_.images.size()) == data_.count * data_.rows * data_.cols &&
                   static_cast<int64_t>(data_.labels.size()) == data_.count,
               "BatchLoader: dataset buffers do not match its count ", data_.count);
  for (int v = 0; v < 256; ++v) lut_[v] = (static_cast<float>(v) / 255.f - options_.mean) / options_.std;
  start_epoch(0);
}

int64_t BatchLoader::num_batches() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? data_.count / b : (data_.count + b - 1) / b;
}

void BatchLoader::start_epoch(int64_t epoch) {
  if (options_.shuffle) {
    order_ = shuffled_order(data_.count, options_.seed, epoch);
  } else {
    order_.resize(static_cast<size_t>(data_.count));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
  cursor_ = 0;
}

bool BatchLoader::next(Batch& batch) {
  const int64_t left = data_.count - cursor_;
  const int64_t b = std::min(options_.batch_size, left);
  if (b <= 0 || (options_.drop_last && b < options_.batch_size)) return false;
  const int64_t pixels = data_.rows * data_.cols;
  Tensor images = Tensor::empty({b, pixels}, DType::f32, Device::cpu());
  Tensor labels = Tensor::empty({b}, DType::i32, Device::cpu());
  float* x = images.data<float>();
  int32_t* y = labels.data<int32_t>();
  for (int64_t k = 0; k < b; ++k) {
    const int64_t idx = order_[static_cast<size_t>(cursor_ + k)];
    const uint8_t* src = data_.images.data() + idx * pixels;
    for (int64_t p = 0; p < pixels; ++p) x[k * pixels + p] = lut_[src[p]];
    y[k] = data_.labels[static_cast<size_t>(idx)];
  }
  cursor_ += b;
  batch.images = options_.device.is_cpu() ? images : images.to(options_.device);
  batch.labels = options_.device.is_cpu() ? labels : labels.to(options_.device);
  return true;
}

}  // namespace lowbit::data
