// Progress lines and the in-place progress bar.
#include "tools/train/progress.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace lowbit {

Progress::Progress(std::ostream& out, Style style, int64_t every)
    : out_(out), style_(every > 0 ? style : Style::none), every_(every) {}

void Progress::start_epoch(int64_t epoch, int64_t epochs, int64_t steps) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  start_ = std::chrono::steady_clock::now();
  drawn_ = false;
}

std::string Progress::clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  std::ostringstream o;
  o << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << ":" << std::setw(2) << s % 60;
  return o.str();
}

std::string Progress::status(int64_t step, int64_t seen, double loss_sum, int64_t correct, double elapsed) const {
  std::ostringstream o;  // its own stream, so the number format does not stick to out_
  const double eta = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(steps_ - step) : 0.0;
  o << std::fixed << std::setprecision(4) << " loss " << loss_sum / static_cast<double>(seen) << std::setprecision(2)
    << " acc " << 100.0 * static_cast<double>(correct) / static_cast<double>(seen) << "% " << std::setprecision(0)
    << (elapsed > 0 ? static_cast<double>(seen) / elapsed : 0.0) << " img/s ETA " << clock(eta);
  if (epoch_ < epochs_ && step > 0) {  // the later epochs at this pace (evaluation not counted)
    const double per_epoch = elapsed / static_cast<double>(step) * static_cast<double>(steps_);
    o << " (run " << clock(eta + per_epoch * static_cast<double>(epochs_ - epoch_)) << ")";
  }
  return o.str();
}

void Progress::update(int64_t step, int64_t seen, double loss_sum, int64_t correct) {
  if (style_ == Style::none || seen <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (style_ == Style::lines) {
    if (step % every_ != 0 && step != steps_) return;
    out_ << "epoch " << epoch_ << "/" << epochs_ << " step " << step << "/" << steps_
         << status(step, seen, loss_sum, correct, elapsed) << std::endl;
    return;
  }
  if (drawn_ && step != steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  constexpr int kWidth = 20;
  const auto filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps_, 1));
  // \r returns to the line's start, \033[K clears what a longer previous status left.
  out_ << "\r\033[Kepoch " << epoch_ << "/" << epochs_ << " [" << std::string(static_cast<size_t>(filled), '#')
       << std::string(static_cast<size_t>(kWidth - filled), '.') << "] " << step << "/" << steps_
       << status(step, seen, loss_sum, correct, elapsed) << std::flush;
  drawn_ = true;
  last_draw_ = now;
}

void Progress::end_epoch() {
  if (style_ == Style::bar && drawn_) out_ << std::endl;
  drawn_ = false;
}

}  // namespace lowbit
