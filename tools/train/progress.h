// Training progress output. On a terminal (Style::bar) one line is redrawn in place, at most ten
// times a second:
//   epoch 2/5 [########............] 188/469 loss 0.4312 acc 84.51% 5123 img/s ETA 0:00:41
// Otherwise (Style::lines) a plain line every `every` steps and at the epoch's last step:
//   epoch 2/5 step 200/469 loss 0.4312 acc 84.51% 5123 img/s ETA 0:00:41
// The loss and accuracy are running means over the epoch; the ETA is the epoch's remaining time,
// followed before the last epoch by the run's, "ETA 0:00:41 (run 0:03:12)", at the same pace
// (test evaluations not counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace lowbit {

class Progress {
 public:
  enum class Style { none, lines, bar };

  Progress(std::ostream& out, Style style, int64_t every);

  void start_epoch(int64_t epoch, int64_t epochs, int64_t steps);
  // After step `step` (1-based) of the epoch: examples seen, summed loss, correct predictions.
  void update(int64_t step, int64_t seen, double loss_sum, int64_t correct);
  void end_epoch();  // ends the bar's line

  // "1:02:03" (hours:minutes:seconds), "0:00:07".
  static std::string clock(double seconds);

 private:
  std::string status(int64_t step, int64_t seen, double loss_sum, int64_t correct, double elapsed) const;

  std::ostream& out_;
  Style style_;
  int64_t every_;
  int64_t epoch_ = 0, epochs_ = 0, steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace lowbit
