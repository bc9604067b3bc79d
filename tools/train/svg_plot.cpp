// SVG line charts: axes, ticks, polylines, legend; text escaped for XML.
#include "tools/train/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace lowbit::svg {
namespace {

constexpr double kWidth = 420, kHeight = 300;  // one chart
constexpr double kLeft = 62, kRight = 14, kTop = 34, kBottom = 46;  // plot-area margins
constexpr double kTitleHeight = 28;  // the document title above the charts

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {  // coordinates
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string label(double v) {  // tick labels
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  void settle(double pad_fraction) {  // an empty or zero-width range gets a width
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    const double pad = (hi - lo) * pad_fraction;
    lo -= pad, hi += pad;
  }
};

// One chart with its top-left corner at (x0, y0).
std::string chart(const Chart& c, double x0, double y0) {
  Range xr, yr;
  for (const Series& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) xr.add(s.x[i]), yr.add(s.y[i]);
  xr.settle(0.0);
  yr.settle(0.05);
  const double px0 = x0 + kLeft, px1 = x0 + kWidth - kRight, py0 = y0 + kTop, py1 = y0 + kHeight - kBottom;
  auto sx = [&](double x) { return px0 + (x - xr.lo) / (xr.hi - xr.lo) * (px1 - px0); };
  auto sy = [&](double y) { return py1 - (y - yr.lo) / (yr.hi - yr.lo) * (py1 - py0); };

  std::string o;
  o += "<text x=\"" + num((px0 + px1) / 2) + "\" y=\"" + num(y0 + 20) +
       "\" text-anchor=\"middle\" font-size=\"14\">" + escape(c.title) + "</text>\n";
  o += "<rect x=\"" + num(px0) + "\" y=\"" + num(py0) + "\" width=\"" + num(px1 - px0) + "\" height=\"" +
       num(py1 - py0) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (double t : nice_ticks(yr.lo, yr.hi, 5)) {
    const std::string y = num(sy(t));
    o += "<line x1=\"" + num(px0) + "\" y1=\"" + y + "\" x2=\"" + num(px1) + "\" y2=\"" + y +
         "\" stroke=\"#ddd\"/>\n";
    o += "<text x=\"" + num(px0 - 6) + "\" y=\"" + y + "\" dy=\"4\" text-anchor=\"end\" font-size=\"11\">" +
         label(t) + "</text>\n";
  }
  for (double t : nice_ticks(xr.lo, xr.hi, 6, true)) {
    const std::string x = num(sx(t));
    o += "<line x1=\"" + x + "\" y1=\"" + num(py1) + "\" x2=\"" + x + "\" y2=\"" + num(py1 + 4) +
         "\" stroke=\"#333\"/>\n";
    o += "<text x=\"" + x + "\" y=\"" + num(py1 + 17) + "\" text-anchor=\"middle\" font-size=\"11\">" + label(t) +
         "</text>\n";
  }
  o += "<text x=\"" + num((px0 + px1) / 2) + "\" y=\"" + num(py1 + 36) +
       "\" text-anchor=\"middle\" font-size=\"12\">" + escape(c.x_label) + "</text>\n";

  double legend_y = py0 + 14;
  for (const Series& s : c.series) {
    std::string points;
    size_t finite = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (!points.empty()) points += ' ';
      points += num(sx(s.x[i]));
      points += ',';
      points += num(sy(s.y[i]));
      ++finite;
    }
    if (finite > 1)
      o += "<polyline fill=\"none\" stroke=\"" + escape(s.color) + "\" stroke-width=\"2\" points=\"" + points +
           "\"/>\n";
    if (finite <= 60)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
          o += "<circle cx=\"" + num(sx(s.x[i])) + "\" cy=\"" + num(sy(s.y[i])) + "\" r=\"2.5\" fill=\"" +
               escape(s.color) + "\"/>\n";
    o += "<line x1=\"" + num(px1 - 70) + "\" y1=\"" + num(legend_y - 4) + "\" x2=\"" + num(px1 - 52) + "\" y2=\"" +
         num(legend_y - 4) + "\" stroke=\"" + escape(s.color) + "\" stroke-width=\"2\"/>\n";
    o += "<text x=\"" + num(px1 - 46) + "\" y=\"" + num(legend_y) + "\" font-size=\"11\">" + escape(s.name) +
         "</text>\n";
    legend_y += 15;
  }
  return o;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count, bool integer_step) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo || count < 1) return ticks;
  const double raw = (hi - lo) / count;
  double step = 1;
  if (raw > 0) {
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / power;
    step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
  }
  if (integer_step) step = std::max(1.0, std::round(step));
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::string charts_side_by_side(const std::string& title, const std::vector<Chart>& charts) {
  const double width = kWidth * static_cast<double>(std::max<size_t>(charts.size(), 1));
  const double height = kHeight + kTitleHeight;
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
                  "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\" font-family=\"sans-serif\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o += "<text x=\"" + num(width / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" + escape(title) +
       "</text>\n";
  for (size_t i = 0; i < charts.size(); ++i) o += chart(charts[i], kWidth * static_cast<double>(i), kTitleHeight);
  o += "</svg>\n";
  return o;
}

}  // namespace lowbit::svg
