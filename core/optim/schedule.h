// Learning-rate schedules as pure functions of the position in training, so a resumed run
// recomputes them. A schedule gives a factor at (epoch, iteration within the epoch, iterations per
// epoch), all 0-based; an optimizer applies it as lr = base_lr * factor to each group
// (apply_schedule). Granularity::epoch holds the factor for a whole epoch (PyTorch schedulers
// stepped once per epoch); Granularity::iteration moves it every iteration, reading the position
// as the fractional epoch epoch + iter / iters_per_epoch.
//   CosineLR cosine(400);                                   // EWGS/DAQ: cosine to 0 per epoch
//   WarmupLR warm(std::make_shared<CosineLR>(150, Granularity::iteration), 5, 0.0);  // SAT
//   apply_schedule(sgd, warm, epoch, iter, loader.num_batches());
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/optim/optimizer.h"

namespace lowbit {

enum class Granularity { epoch, iteration };

// Where training is: epoch and iteration 0-based, iters_per_epoch >= 1.
struct ScheduleTime {
  int64_t epoch = 0;
  int64_t iter = 0;
  int64_t iters_per_epoch = 1;
  int64_t global_iter() const { return epoch * iters_per_epoch + iter; }
  // epoch, or epoch + iter / iters_per_epoch.
  double progress(Granularity g) const;
};

class LOWBIT_API LRSchedule {
 public:
  virtual ~LRSchedule();
  // Checks the position (epoch >= 0, 0 <= iter < iters_per_epoch) and returns the factor.
  double factor(int64_t epoch, int64_t iter, int64_t iters_per_epoch) const;
  virtual std::string describe() const = 0;  // e.g. "cosine(400 epochs, per epoch, min factor 0)"

 protected:
  virtual double at(const ScheduleTime& t) const = 0;
};

// Factor 1.
class LOWBIT_API ConstantLR : public LRSchedule {
 public:
  std::string describe() const override { return "constant"; }

 protected:
  double at(const ScheduleTime&) const override { return 1.0; }
};

// min + (1 - min) * (1 + cos(pi * p / total_epochs)) / 2 with p the (fractional) epoch, and min
// from total_epochs on (torch's CosineAnnealingLR with eta_min = min_factor * base_lr, T_max =
// total_epochs when stepped per epoch, total_epochs * iters_per_epoch when stepped per iteration).
class LOWBIT_API CosineLR : public LRSchedule {
 public:
  explicit CosineLR(int64_t total_epochs, Granularity granularity = Granularity::epoch, double min_factor = 0.0);
  std::string describe() const override;

 protected:
  double at(const ScheduleTime& t) const override;

 private:
  int64_t total_epochs_;
  Granularity granularity_;
  double min_factor_;
};

// gamma^k, k = the number of milestones reached (milestone <= epoch, or <= the global iteration
// with Granularity::iteration), as torch's MultiStepLR. Milestones strictly increasing, >= 1.
class LOWBIT_API MultiStepLR : public LRSchedule {
 public:
  MultiStepLR(std::vector<int64_t> milestones, double gamma, Granularity granularity = Granularity::epoch);
  std::string describe() const override;

 protected:
  double at(const ScheduleTime& t) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
  Granularity granularity_;
};

// gamma^p with p the (fractional) epoch: gamma is the decay per epoch (torch's ExponentialLR
// stepped per epoch; per iteration the same decay spread smoothly over the epoch).
class LOWBIT_API ExponentialLR : public LRSchedule {
 public:
  explicit ExponentialLR(double gamma, Granularity granularity = Granularity::epoch);
  std::string describe() const override;

 protected:
  double at(const ScheduleTime& t) const override;

 private:
  double gamma_;
  Granularity granularity_;
};

// Linear warm-up multiplied onto another schedule: inner * w, with
// w = start_factor + (1 - start_factor) * min(1, p / warmup_epochs) and p the (fractional) epoch.
// The inner schedule keeps its own clock (it is not delayed by the warm-up).
class LOWBIT_API WarmupLR : public LRSchedule {
 public:
  WarmupLR(std::shared_ptr<const LRSchedule> inner, int64_t warmup_epochs, double start_factor,
           Granularity granularity = Granularity::iteration);
  std::string describe() const override;

 protected:
  double at(const ScheduleTime& t) const override;

 private:
  std::shared_ptr<const LRSchedule> inner_;
  int64_t warmup_epochs_;
  double start_factor_;
  Granularity granularity_;
};

// Sets every group's lr to base_lr * schedule.factor(epoch, iter, iters_per_epoch).
LOWBIT_API void apply_schedule(Optimizer& optimizer, const LRSchedule& schedule, int64_t epoch, int64_t iter,
                               int64_t iters_per_epoch);

// Cosine decay from base_lr at step 0 to 0 at step total: base_lr * (1 + cos(pi * step / total)) / 2.
inline double cosine_lr(double base_lr, int64_t step, int64_t total) {
  if (total <= 0 || step >= total) return 0.0;
  const double pi = 3.14159265358979323846;
  return base_lr * 0.5 * (1.0 + std::cos(pi * static_cast<double>(step) / static_cast<double>(total)));
}

}  // namespace lowbit
