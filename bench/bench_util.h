// Host-side helpers shared by the benchmark files (CPU-safe: no CUDA headers): wall-clock timing,
// seeded random inputs, result comparison, and the ResNet-like conv shapes with their labels.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/random.h"
#include "core/tensor.h"

namespace lowbit::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Best wall time of f() over `reps` runs, after one warm-up run.
template <typename F>
double best_time(F&& f, int reps = 3) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// Uniform [0, 1) f32 values on the CPU, seeded.
inline Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return Tensor::rand(shape, Device::cpu(), &gen);
}

// Empty string when got[0, n) matches want within 1e-3 * (1 + |want|); else a description of the
// first mismatch, naming the peer that produced `want`.
inline std::string first_mismatch(const float* got, const float* want, size_t n, const std::string& peer) {
  for (size_t i = 0; i < n; ++i)
    if (!(std::abs(got[i] - want[i]) <= 1e-3f * (1.f + std::abs(want[i]))))
      return "mismatch vs " + peer + " at element " + std::to_string(i) + ": got " + std::to_string(got[i]) +
             ", want " + std::to_string(want[i]);
  return "";
}

// An NHWC x OHWI convolution shape (groups = 1, square kernel).
struct ConvShape {
  int64_t N, H, W, C, O, K, stride, pad;
  int64_t OH() const { return (H + 2 * pad - K) / stride + 1; }
  int64_t OW() const { return (W + 2 * pad - K) / stride + 1; }
  double flops() const { return 2.0 * N * OH() * OW() * O * K * K * C; }
};

// Benchmark-name label of a conv shape, e.g. N8_32x32x16_to_16_k3s1p1.
inline std::string conv_label(const ConvShape& s) {
  std::ostringstream os;
  os << "N" << s.N << "_" << s.H << "x" << s.W << "x" << s.C << "_to_" << s.O << "_k" << s.K << "s" << s.stride << "p"
     << s.pad;
  return os.str();
}

}  // namespace lowbit::bench
