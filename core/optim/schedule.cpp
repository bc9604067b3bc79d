// Learning-rate schedules (see schedule.h): argument checks and the factor formulas.
#include "core/optim/schedule.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace lowbit {

namespace {

const double kPi = 3.14159265358979323846;

const char* granularity_str(Granularity g) { return g == Granularity::epoch ? "per epoch" : "per iteration"; }

// Position / length as a fraction, both counted in the schedule's unit (epochs, or iterations
// with Granularity::iteration), so per-iteration fractions are exact integer ratios.
double fraction(const ScheduleTime& t, int64_t epochs, Granularity g) {
  if (g == Granularity::epoch) return static_cast<double>(t.epoch) / static_cast<double>(epochs);
  return static_cast<double>(t.global_iter()) / static_cast<double>(epochs * t.iters_per_epoch);
}

}  // namespace

double ScheduleTime::progress(Granularity g) const {
  if (g == Granularity::epoch) return static_cast<double>(epoch);
  return static_cast<double>(epoch) + static_cast<double>(iter) / static_cast<double>(iters_per_epoch);
}

LRSchedule::~LRSchedule() = default;

double LRSchedule::factor(int64_t epoch, int64_t iter, int64_t iters_per_epoch) const {
  LOWBIT_CHECK(iters_per_epoch >= 1, describe(), ": iters_per_epoch must be >= 1, got ", iters_per_epoch);
  LOWBIT_CHECK(epoch >= 0, describe(), ": epoch must be >= 0 (0-based), got ", epoch);
  LOWBIT_CHECK(iter >= 0 && iter < iters_per_epoch, describe(), ": iteration must be in [0, ", iters_per_epoch,
               ") (0-based), got ", iter);
  return at({epoch, iter, iters_per_epoch});
}

CosineLR::CosineLR(int64_t total_epochs, Granularity granularity, double min_factor)
    : total_epochs_(total_epochs), granularity_(granularity), min_factor_(min_factor) {
  LOWBIT_CHECK(total_epochs >= 1, "CosineLR: total_epochs must be >= 1, got ", total_epochs);
  LOWBIT_CHECK(min_factor >= 0.0 && min_factor <= 1.0, "CosineLR: min_factor must be in [0, 1], got ", min_factor);
}

std::string CosineLR::describe() const {
  return detail::cat("cosine(", total_epochs_, " epochs, ", granularity_str(granularity_), ", min factor ", min_factor_,
                     ")");
}

double CosineLR::at(const ScheduleTime& t) const {
  const double f = fraction(t, total_epochs_, granularity_);
  if (f >= 1.0) return min_factor_;
  return min_factor_ + (1.0 - min_factor_) * 0.5 * (1.0 + std::cos(kPi * f));
}

MultiStepLR::MultiStepLR(std::vector<int64_t> milestones, double gamma, Granularity granularity)
    : milestones_(std::move(milestones)), gamma_(gamma), granularity_(granularity) {
  LOWBIT_CHECK(std::isfinite(gamma) && gamma > 0.0, "MultiStepLR: gamma must be a finite number > 0, got ", gamma);
  for (size_t i = 0; i < milestones_.size(); ++i) {
    LOWBIT_CHECK(milestones_[i] >= 1, "MultiStepLR: milestone ", i, " must be >= 1, got ", milestones_[i]);
    LOWBIT_CHECK(i == 0 || milestones_[i] > milestones_[i - 1],
                 "MultiStepLR: milestones must be strictly increasing, got ", milestones_[i - 1], " then ",
                 milestones_[i]);
  }
}

std::string MultiStepLR::describe() const {
  std::ostringstream os;
  os << "multistep(milestones [";
  for (size_t i = 0; i < milestones_.size(); ++i) os << (i ? ", " : "") << milestones_[i];
  os << "] " << (granularity_ == Granularity::epoch ? "epochs" : "iterations") << ", gamma " << gamma_ << ")";
  return os.str();
}

double MultiStepLR::at(const ScheduleTime& t) const {
  const int64_t now = granularity_ == Granularity::epoch ? t.epoch : t.global_iter();
  const auto reached = std::upper_bound(milestones_.begin(), milestones_.end(), now) - milestones_.begin();
  return std::pow(gamma_, static_cast<double>(reached));
}

ExponentialLR::ExponentialLR(double gamma, Granularity granularity) : gamma_(gamma), granularity_(granularity) {
  LOWBIT_CHECK(std::isfinite(gamma) && gamma > 0.0, "ExponentialLR: gamma must be a finite number > 0, got ", gamma);
}

std::string ExponentialLR::describe() const {
  return detail::cat("exponential(gamma ", gamma_, " per epoch, ", granularity_str(granularity_), ")");
}

double ExponentialLR::at(const ScheduleTime& t) const { return std::pow(gamma_, t.progress(granularity_)); }

WarmupLR::WarmupLR(std::shared_ptr<const LRSchedule> inner, int64_t warmup_epochs, double start_factor,
                   Granularity granularity)
    : inner_(std::move(inner)), warmup_epochs_(warmup_epochs), start_factor_(start_factor), granularity_(granularity) {
  LOWBIT_CHECK(inner_ != nullptr, "WarmupLR: the inner schedule is null");
  LOWBIT_CHECK(warmup_epochs >= 1, "WarmupLR: warmup_epochs must be >= 1, got ", warmup_epochs);
  LOWBIT_CHECK(start_factor >= 0.0 && start_factor <= 1.0, "WarmupLR: start_factor must be in [0, 1], got ",
               start_factor);
}

std::string WarmupLR::describe() const {
  return detail::cat("linear warm-up(", warmup_epochs_, " epochs from ", start_factor_, ", ",
                     granularity_str(granularity_), ") then ", inner_->describe());
}

double WarmupLR::at(const ScheduleTime& t) const {
  const double f = std::min(1.0, fraction(t, warmup_epochs_, granularity_));
  const double w = f >= 1.0 ? 1.0 : start_factor_ + (1.0 - start_factor_) * f;
  return w * inner_->factor(t.epoch, t.iter, t.iters_per_epoch);
}

void apply_schedule(Optimizer& optimizer, const LRSchedule& schedule, int64_t epoch, int64_t iter,
                    int64_t iters_per_epoch) {
  optimizer.scale_lr(schedule.factor(epoch, iter, iters_per_epoch));
}

}  // namespace lowbit
