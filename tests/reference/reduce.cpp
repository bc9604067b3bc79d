// Reference (oracle) reductions, softmax and cross-entropy for lowbit tests:
// sum, mean, max, min, var, std over axis lists; argmax; softmax; log_softmax;
// cross_entropy with label smoothing. Plain float64 loops, standard library only.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "tests/reference/ops.h"

namespace lowbit::ref {

namespace {

// Which axes are reduced, the result shape with reduced axes kept as 1
// ("keep_shape"), the returned shape, and how many inputs feed each output.
struct ReducePlan {
  std::vector<bool> reduced;
  std::vector<int64_t> keep_shape;
  std::vector<int64_t> out_shape;
  int64_t count = 1;
};

ReducePlan make_plan(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, bool keepdim) {
  int64_t r = static_cast<int64_t>(shape.size());
  ReducePlan p;
  p.reduced.assign(r, axes.empty());  // empty list = all axes
  for (int64_t a : axes) {
    int64_t ax = norm_axis(a, r);
    if (p.reduced[ax]) throw std::invalid_argument("ref: repeated reduction axis");
    p.reduced[ax] = true;
  }
  for (int64_t d = 0; d < r; ++d) {
    if (p.reduced[d]) {
      p.count *= shape[d];
      p.keep_shape.push_back(1);
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.keep_shape.push_back(shape[d]);
      p.out_shape.push_back(shape[d]);
    }
  }
  return p;
}

// Flat offset in the keep_shape result that input element `flat` reduces into.
int64_t out_offset(const ReducePlan& p, const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx = unravel(shape, flat);
  for (size_t d = 0; d < idx.size(); ++d)
    if (p.reduced[d]) idx[d] = 0;
  return offset(p.keep_shape, idx);
}

// Calls fn(offsets) once for every 1-d line of x along `ax`; offsets are the
// flat offsets of that line's elements in order.
template <typename Fn>
void for_each_line(const std::vector<int64_t>& shape, int64_t ax, Fn fn) {
  std::vector<int64_t> outer = shape;
  outer[ax] = 1;
  for (int64_t o = 0; o < numel(outer); ++o) {
    std::vector<int64_t> idx = unravel(outer, o);
    std::vector<int64_t> offs;
    for (int64_t k = 0; k < shape[ax]; ++k) {
      idx[ax] = k;
      offs.push_back(offset(shape, idx));
    }
    fn(offs);
  }
}

Arr extreme(const Arr& x, const std::vector<int64_t>& axes, bool keepdim, bool want_max) {
  ReducePlan p = make_plan(x.shape, axes, keepdim);
  double init = want_max ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
  Arr out = make(p.keep_shape, init);
  for (int64_t i = 0; i < numel(x); ++i) {
    double& m = out.v[out_offset(p, x.shape, i)];
    double xi = x.v[i];
    if (std::isnan(m)) continue;  // NaN already won
    if (std::isnan(xi) || (want_max ? xi > m : xi < m)) m = xi;
  }
  out.shape = p.out_shape;
  return out;
}

}  // namespace

Arr sum(const Arr& x, const std::vector<int64_t>& axes, bool keepdim) {
  ReducePlan p = make_plan(x.shape, axes, keepdim);
  Arr out = make(p.keep_shape, 0.0);
  for (int64_t i = 0; i < numel(x); ++i) out.v[out_offset(p, x.shape, i)] += x.v[i];
  out.shape = p.out_shape;
  return out;
}

Arr mean(const Arr& x, const std::vector<int64_t>& axes, bool keepdim) {
  ReducePlan p = make_plan(x.shape, axes, keepdim);
  Arr out = sum(x, axes, keepdim);
  for (double& o : out.v) o /= static_cast<double>(p.count);
  return out;
}

Arr max(const Arr& x, const std::vector<int64_t>& axes, bool keepdim) {
  return extreme(x, axes, keepdim, true);
}

Arr min(const Arr& x, const std::vector<int64_t>& axes, bool keepdim) {
  return extreme(x, axes, keepdim, false);
}

Arr var(const Arr& x, const std::vector<int64_t>& axes, bool unbiased, bool keepdim) {
  ReducePlan p = make_plan(x.shape, axes, keepdim);
  Arr m = mean(x, axes, /*keepdim=*/true);  // shape == keep_shape
  Arr out = make(p.keep_shape, 0.0);
  for (int64_t i = 0; i < numel(x); ++i) {
    int64_t o = out_offset(p, x.shape, i);
    double d = x.v[i] - m.v[o];
    out.v[o] += d * d;
  }
  double denom = static_cast<double>(p.count) - (unbiased ? 1.0 : 0.0);
  for (double& o : out.v) o /= denom;  // count 1 & unbiased -> 0/0 = NaN, like torch
  out.shape = p.out_shape;
  return out;
}

Arr std(const Arr& x, const std::vector<int64_t>& axes, bool unbiased, bool keepdim) {
  Arr out = var(x, axes, unbiased, keepdim);
  for (double& o : out.v) o = std::sqrt(o);
  return out;
}

Arr argmax(const Arr& x, int64_t axis, bool keepdim) {
  int64_t ax = norm_axis(axis, ndim(x));
  if (x.shape[ax] == 0) throw std::invalid_argument("ref::argmax: empty axis");
  ReducePlan p = make_plan(x.shape, {ax}, keepdim);
  Arr out = make(p.keep_shape);
  for_each_line(x.shape, ax, [&](const std::vector<int64_t>& offs) {
    int64_t best = 0;
    for (int64_t k = 1; k < static_cast<int64_t>(offs.size()); ++k)
      if (x.v[offs[k]] > x.v[offs[best]]) best = k;  // strict: first index wins ties
    out.v[out_offset(p, x.shape, offs[0])] = static_cast<double>(best);
  });
  out.shape = p.out_shape;
  return out;
}

Arr softmax(const Arr& x, int64_t axis) {
  int64_t ax = norm_axis(axis, ndim(x));
  Arr out = make(x.shape);
  for_each_line(x.shape, ax, [&](const std::vector<int64_t>& offs) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t o : offs) m = std::max(m, x.v[o]);
    double s = 0.0;
    for (int64_t o : offs) s += std::exp(x.v[o] - m);
    for (int64_t o : offs) out.v[o] = std::exp(x.v[o] - m) / s;
  });
  return out;
}

Arr log_softmax(const Arr& x, int64_t axis) {
  int64_t ax = norm_axis(axis, ndim(x));
  Arr out = make(x.shape);
  for_each_line(x.shape, ax, [&](const std::vector<int64_t>& offs) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t o : offs) m = std::max(m, x.v[o]);
    double s = 0.0;
    for (int64_t o : offs) s += std::exp(x.v[o] - m);
    double lse = m + std::log(s);
    for (int64_t o : offs) out.v[o] = x.v[o] - lse;
  });
  return out;
}

double cross_entropy(const Arr& logits, const std::vector<int64_t>& labels, double label_smoothing) {
  if (ndim(logits) != 2) throw std::invalid_argument("ref::cross_entropy: logits must be [N,K]");
  int64_t n = logits.shape[0], k = logits.shape[1];
  if (static_cast<int64_t>(labels.size()) != n)
    throw std::invalid_argument("ref::cross_entropy: need one label per row");
  Arr logp = log_softmax(logits, 1);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = labels[i];
    if (y < 0 || y >= k) throw std::out_of_range("ref::cross_entropy: label out of range");
    double nll = -at(logp, {i, y});
    double uniform = 0.0;
    for (int64_t j = 0; j < k; ++j) uniform += -at(logp, {i, j});
    uniform /= static_cast<double>(k);
    total += (1.0 - label_smoothing) * nll + label_smoothing * uniform;
  }
  return total / static_cast<double>(n);
}

}  // namespace lowbit::ref
