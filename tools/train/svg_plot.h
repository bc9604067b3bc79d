// Small hand-written SVG line charts (training curves): each chart has its own axes with "nice"
// tick values, one polyline per series (points marked when there are few), and a legend.
// Non-finite values are left out of the lines and of the axis ranges.
#pragma once

#include <string>
#include <vector>

namespace lowbit::svg {

struct Series {
  std::string name;   // legend text
  std::string color;  // any SVG color, e.g. "#1f77b4"
  std::vector<double> x, y;
};

struct Chart {
  std::string title;  // above the chart, also the y axis meaning
  std::string x_label;
  std::vector<Series> series;
};

// One SVG document with the charts in a row under `title`.
std::string charts_side_by_side(const std::string& title, const std::vector<Chart>& charts);

// Tick values covering [lo, hi] with a step of 1, 2 or 5 times a power of ten, about `count` of
// them (the first >= lo, the last <= hi). integer_step: steps of at least 1.
std::vector<double> nice_ticks(double lo, double hi, int count, bool integer_step = false);

}  // namespace lowbit::svg
