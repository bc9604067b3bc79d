// Learning-rate schedules as pure functions of the step, so a resumed run recomputes them.
#pragma once

#include <cmath>
#include <cstdint>

namespace lowbit {

// Cosine decay from base_lr at step 0 to 0 at step total: base_lr * (1 + cos(pi * step / total)) / 2.
inline double cosine_lr(double base_lr, int64_t step, int64_t total) {
  if (total <= 0 || step >= total) return 0.0;
  const double pi = 3.14159265358979323846;
  return base_lr * 0.5 * (1.0 + std::cos(pi * static_cast<double>(step) / static_cast<double>(total)));
}

}  // namespace lowbit
