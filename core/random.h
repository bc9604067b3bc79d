// Generator: seed + stream counter for the counter-based Philox generator (kernels/philox.h).
// Each random tensor draw takes the next stream, so a seed fixes every number on every device.
#pragma once

#include <cstdint>

#include "core/export.h"

namespace lowbit {

class LOWBIT_API Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    stream_ = 0;
  }
  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }       // the next draw's stream
  void set_stream(uint64_t stream) { stream_ = stream; }  // for exact resume
  uint64_t next_stream() { return stream_++; }

 private:
  uint64_t seed_;
  uint64_t stream_ = 0;
};

// The process-wide generator used when an op is given none (not thread-safe: seed per thread
// with your own Generator when drawing from several threads).
LOWBIT_API Generator& default_generator();
LOWBIT_API void manual_seed(uint64_t seed);

}  // namespace lowbit
