// Reference (oracle) array type for lowbit tests: a float64, row-major,
// contiguous n-d array plus small indexing helpers. Standard library only.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowbit::ref {

struct Arr {
  std::vector<int64_t> shape;  // empty shape = scalar (one element)
  std::vector<double> v;       // row-major contiguous values
};

// Number of elements of a shape (product of dims; 1 for the scalar shape {}).
inline int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
inline int64_t numel(const Arr& a) { return numel(a.shape); }

inline int64_t ndim(const Arr& a) { return static_cast<int64_t>(a.shape.size()); }

// New array of the given shape, every element set to fill.
inline Arr make(const std::vector<int64_t>& shape, double fill = 0.0) {
  for (int64_t d : shape)
    if (d < 0) throw std::invalid_argument("ref::make: negative dimension");
  Arr a;
  a.shape = shape;
  a.v.assign(static_cast<size_t>(numel(shape)), fill);
  return a;
}

// New array from explicit row-major values (count must match the shape).
inline Arr from(const std::vector<int64_t>& shape, const std::vector<double>& values) {
  if (static_cast<int64_t>(values.size()) != numel(shape))
    throw std::invalid_argument("ref::from: value count does not match shape");
  return Arr{shape, values};
}

// Row-major strides (in elements) of a shape.
inline std::vector<int64_t> strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Flat offset of a multi-index (bounds-checked).
inline int64_t offset(const std::vector<int64_t>& shape, const std::vector<int64_t>& idx) {
  if (idx.size() != shape.size()) throw std::out_of_range("ref::offset: index rank mismatch");
  int64_t off = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= shape[i]) throw std::out_of_range("ref::offset: index out of range");
    off = off * shape[i] + idx[i];
  }
  return off;
}

// Multi-index of a flat offset (inverse of offset).
inline std::vector<int64_t> unravel(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

// Element access by multi-index, e.g. at(a, {n, h, w, c}).
inline double& at(Arr& a, const std::vector<int64_t>& idx) {
  return a.v[static_cast<size_t>(offset(a.shape, idx))];
}
inline double at(const Arr& a, const std::vector<int64_t>& idx) {
  return a.v[static_cast<size_t>(offset(a.shape, idx))];
}

// Normalize a possibly-negative axis into [0, rank).
inline int64_t norm_axis(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw std::out_of_range("ref: axis out of range");
  return a;
}

// Largest |a - b| over all elements (shapes must match); NaN if either has a NaN.
inline double max_abs_diff(const Arr& a, const Arr& b) {
  if (a.shape != b.shape || a.v.size() != b.v.size())
    throw std::invalid_argument("ref::max_abs_diff: shape mismatch");
  double m = 0.0;
  for (size_t i = 0; i < a.v.size(); ++i) {
    double d = std::fabs(a.v[i] - b.v[i]);
    if (std::isnan(d)) return d;
    if (d > m) m = d;
  }
  return m;
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace lowbit::ref
