// Reference (oracle) elementwise, broadcasting and shape ops for lowbit tests:
// broadcast_shape, binary, unary, sum_to, pad, cat, permute, slice,
// weighted_sum, numeric_grad. Plain float64 loops, standard library only.
#include <algorithm>
#include <stdexcept>

#include "tests/reference/ops.h"

namespace lowbit::ref {

std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n, 1);
  for (size_t i = 0; i < n; ++i) {  // i counts from the right
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else
      throw std::invalid_argument("ref::broadcast_shape: incompatible " + shape_str(a) + " vs " +
                                  shape_str(b));
    out[n - 1 - i] = d;
  }
  return out;
}

// Offset into an array of shape `src` for the multi-index `out_idx` of a broadcast
// result: leading extra axes are dropped, size-1 axes are pinned to index 0.
static int64_t broadcast_source_offset(const std::vector<int64_t>& src,
                                       const std::vector<int64_t>& out_idx) {
  size_t lead = out_idx.size() - src.size();
  int64_t off = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t k = src[i] == 1 ? 0 : out_idx[lead + i];
    off = off * src[i] + k;
  }
  return off;
}

Arr binary(const Arr& a, const Arr& b, std::function<double(double, double)> f) {
  Arr out = make(broadcast_shape(a.shape, b.shape));
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> idx = unravel(out.shape, i);
    double x = a.v[broadcast_source_offset(a.shape, idx)];
    double y = b.v[broadcast_source_offset(b.shape, idx)];
    out.v[i] = f(x, y);
  }
  return out;
}

Arr unary(const Arr& a, std::function<double(double)> f) {
  Arr out = make(a.shape);
  for (size_t i = 0; i < a.v.size(); ++i) out.v[i] = f(a.v[i]);
  return out;
}

Arr sum_to(const Arr& g, const std::vector<int64_t>& shape) {
  if (broadcast_shape(shape, g.shape) != g.shape)
    throw std::invalid_argument("ref::sum_to: " + shape_str(shape) + " does not broadcast to " +
                                shape_str(g.shape));
  Arr out = make(shape, 0.0);
  for (int64_t i = 0; i < numel(g); ++i) {
    std::vector<int64_t> idx = unravel(g.shape, i);
    out.v[broadcast_source_offset(shape, idx)] += g.v[i];
  }
  return out;
}

Arr pad(const Arr& x, const std::vector<std::pair<int64_t, int64_t>>& before_after, double value) {
  if (before_after.size() != x.shape.size())
    throw std::invalid_argument("ref::pad: need one (before, after) pair per axis");
  std::vector<int64_t> shape = x.shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    shape[d] += before_after[d].first + before_after[d].second;
    if (shape[d] < 0) throw std::invalid_argument("ref::pad: negative output size");
  }
  Arr out = make(shape, value);
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> idx = unravel(out.shape, i);
    bool inside = true;
    for (size_t d = 0; d < idx.size(); ++d) {
      idx[d] -= before_after[d].first;  // position in x
      if (idx[d] < 0 || idx[d] >= x.shape[d]) inside = false;
    }
    if (inside) out.v[i] = at(x, idx);
  }
  return out;
}

Arr cat(const std::vector<Arr>& xs, int64_t axis) {
  if (xs.empty()) throw std::invalid_argument("ref::cat: no inputs");
  int64_t ax = norm_axis(axis, ndim(xs[0]));
  std::vector<int64_t> others = xs[0].shape;  // shape with the cat axis zeroed
  others[ax] = 0;
  std::vector<int64_t> shape = others;
  for (const Arr& x : xs) {
    std::vector<int64_t> s = x.shape;
    if (s.size() != others.size()) throw std::invalid_argument("ref::cat: rank mismatch");
    s[ax] = 0;
    if (s != others) throw std::invalid_argument("ref::cat: shape mismatch off the cat axis");
    shape[ax] += x.shape[ax];
  }
  Arr out = make(shape);
  int64_t base = 0;  // where the current input starts along `ax`
  for (const Arr& x : xs) {
    for (int64_t i = 0; i < numel(x); ++i) {
      std::vector<int64_t> idx = unravel(x.shape, i);
      idx[ax] += base;
      at(out, idx) = x.v[i];
    }
    base += x.shape[ax];
  }
  return out;
}

Arr permute(const Arr& x, const std::vector<int64_t>& perm) {
  int64_t r = ndim(x);
  if (static_cast<int64_t>(perm.size()) != r) throw std::invalid_argument("ref::permute: bad perm size");
  std::vector<int64_t> p(r);
  std::vector<bool> seen(r, false);
  for (int64_t i = 0; i < r; ++i) {
    p[i] = norm_axis(perm[i], r);
    if (seen[p[i]]) throw std::invalid_argument("ref::permute: repeated axis");
    seen[p[i]] = true;
  }
  std::vector<int64_t> shape(r);
  for (int64_t i = 0; i < r; ++i) shape[i] = x.shape[p[i]];
  Arr out = make(shape);
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> o = unravel(out.shape, i);
    std::vector<int64_t> src(r);
    for (int64_t d = 0; d < r; ++d) src[p[d]] = o[d];  // out axis d is input axis p[d]
    out.v[i] = at(x, src);
  }
  return out;
}

Arr slice(const Arr& x, int64_t axis, int64_t start, int64_t stop, int64_t step) {
  int64_t ax = norm_axis(axis, ndim(x));
  int64_t n = x.shape[ax];
  if (step == 0) throw std::invalid_argument("ref::slice: step must be nonzero");
  // Python slice index adjustment.
  int64_t len;
  if (step > 0) {
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    start = std::clamp<int64_t>(start, 0, n);
    stop = std::clamp<int64_t>(stop, 0, n);
    len = stop > start ? (stop - start + step - 1) / step : 0;
  } else {
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    start = std::clamp<int64_t>(start, -1, n - 1);
    stop = std::clamp<int64_t>(stop, -1, n - 1);
    len = start > stop ? (start - stop - 1) / (-step) + 1 : 0;
  }
  std::vector<int64_t> shape = x.shape;
  shape[ax] = len;
  Arr out = make(shape);
  for (int64_t i = 0; i < numel(out); ++i) {
    std::vector<int64_t> idx = unravel(out.shape, i);
    idx[ax] = start + idx[ax] * step;
    out.v[i] = at(x, idx);
  }
  return out;
}

double weighted_sum(const Arr& out, const Arr& weights) {
  if (out.shape != weights.shape || out.v.size() != weights.v.size())
    throw std::invalid_argument("ref::weighted_sum: shape mismatch " + shape_str(out.shape) + " vs " +
                                shape_str(weights.shape));
  double s = 0.0;
  for (size_t i = 0; i < out.v.size(); ++i) s += out.v[i] * weights.v[i];
  return s;
}

Arr numeric_grad(std::function<double(const std::vector<Arr>&)> f, std::vector<Arr> inputs,
                 size_t which, double eps) {
  if (which >= inputs.size()) throw std::out_of_range("ref::numeric_grad: bad input index");
  Arr g = make(inputs[which].shape);
  for (size_t i = 0; i < inputs[which].v.size(); ++i) {
    double orig = inputs[which].v[i];
    inputs[which].v[i] = orig + eps;
    double fp = f(inputs);
    inputs[which].v[i] = orig - eps;
    double fm = f(inputs);
    inputs[which].v[i] = orig;
    g.v[i] = (fp - fm) / (2.0 * eps);
  }
  return g;
}

}  // namespace lowbit::ref
