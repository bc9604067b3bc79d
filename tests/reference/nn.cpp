// Reference (oracle) neural-network ops for lowbit tests: matmul, linear,
// conv2d (NHWC x OHWI, groups), batch norm (train/eval, channel-last),
// max/avg/global-avg pooling (NHWC). Plain float64 loops, standard library only.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "tests/reference/ops.h"

namespace lowbit::ref {

Arr matmul(const Arr& a, const Arr& b) {
  if (ndim(a) == 2 && ndim(b) == 2) {
    int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
    if (b.shape[0] != k) throw std::invalid_argument("ref::matmul: inner dims differ");
    Arr out = make({m, n}, 0.0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (int64_t t = 0; t < k; ++t) s += at(a, {i, t}) * at(b, {t, j});
        at(out, {i, j}) = s;
      }
    return out;
  }
  if (ndim(a) == 3 && ndim(b) == 3) {
    int64_t bs = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2];
    if (b.shape[0] != bs) throw std::invalid_argument("ref::matmul: batch dims differ");
    if (b.shape[1] != k) throw std::invalid_argument("ref::matmul: inner dims differ");
    Arr out = make({bs, m, n}, 0.0);
    for (int64_t p = 0; p < bs; ++p)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0.0;
          for (int64_t t = 0; t < k; ++t) s += at(a, {p, i, t}) * at(b, {p, t, j});
          at(out, {p, i, j}) = s;
        }
    return out;
  }
  throw std::invalid_argument("ref::matmul: need 2-d x 2-d or 3-d x 3-d");
}

Arr linear(const Arr& x, const Arr& w, const Arr& b) {
  if (ndim(x) < 1 || ndim(w) != 2) throw std::invalid_argument("ref::linear: bad ranks");
  int64_t in = x.shape.back(), out_f = w.shape[0];
  if (w.shape[1] != in) throw std::invalid_argument("ref::linear: in_features mismatch");
  bool has_bias = !b.v.empty();
  if (has_bias && b.shape != std::vector<int64_t>{out_f})
    throw std::invalid_argument("ref::linear: bias must be [out]");
  int64_t rows = numel(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));  // leading dims
  std::vector<int64_t> shape = x.shape;
  shape.back() = out_f;
  Arr out = make(shape, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out_f; ++o) {
      double s = has_bias ? b.v[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) s += x.v[r * in + i] * at(w, {o, i});
      out.v[r * out_f + o] = s;
    }
  return out;
}

Arr conv2d(const Arr& x, const Arr& w, const Arr& bias, int64_t stride_h, int64_t stride_w,
           int64_t pad_h, int64_t pad_w, int64_t groups) {
  if (ndim(x) != 4 || ndim(w) != 4) throw std::invalid_argument("ref::conv2d: x and w must be 4-d");
  int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  int64_t oc = w.shape[0], kh = w.shape[1], kw = w.shape[2], cg = w.shape[3];
  if (groups < 1 || c % groups != 0 || oc % groups != 0)
    throw std::invalid_argument("ref::conv2d: channels not divisible by groups");
  if (cg != c / groups) throw std::invalid_argument("ref::conv2d: weight in-channels != C/groups");
  if (stride_h < 1 || stride_w < 1 || pad_h < 0 || pad_w < 0)
    throw std::invalid_argument("ref::conv2d: bad stride/pad");
  bool has_bias = !bias.v.empty();
  if (has_bias && bias.shape != std::vector<int64_t>{oc})
    throw std::invalid_argument("ref::conv2d: bias must be [O]");
  int64_t oh = (h + 2 * pad_h - kh) / stride_h + 1;
  int64_t ow = (wd + 2 * pad_w - kw) / stride_w + 1;
  if (h + 2 * pad_h < kh || wd + 2 * pad_w < kw) throw std::invalid_argument("ref::conv2d: kernel too big");
  int64_t oc_per_group = oc / groups;

  Arr out = make({n, oh, ow, oc}, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t o = 0; o < oc; ++o) {
          int64_t g = o / oc_per_group;  // group of this output channel
          double s = has_bias ? bias.v[o] : 0.0;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              int64_t iy = y * stride_h - pad_h + i;
              int64_t ix = xo * stride_w - pad_w + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;  // zero padding
              for (int64_t ci = 0; ci < cg; ++ci)
                s += at(x, {b, iy, ix, g * cg + ci}) * at(w, {o, i, j, ci});
            }
          at(out, {b, y, xo, o}) = s;
        }
  return out;
}

BatchNormTrainOut batch_norm_train(const Arr& x, const Arr& gamma, const Arr& beta, double eps) {
  if (ndim(x) < 2) throw std::invalid_argument("ref::batch_norm_train: x must be [N,...,C]");
  int64_t c = x.shape.back();
  int64_t m = numel(x) / c;  // samples per channel
  BatchNormTrainOut r;
  r.mean = make({c}, 0.0);
  r.var_biased = make({c}, 0.0);
  r.var_unbiased = make({c}, 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    double s = 0.0;
    for (int64_t i = 0; i < m; ++i) s += x.v[i * c + ch];
    double mu = s / static_cast<double>(m);
    double ss = 0.0;
    for (int64_t i = 0; i < m; ++i) ss += (x.v[i * c + ch] - mu) * (x.v[i * c + ch] - mu);
    r.mean.v[ch] = mu;
    r.var_biased.v[ch] = ss / static_cast<double>(m);
    r.var_unbiased.v[ch] = ss / static_cast<double>(m - 1);
  }
  r.y = batch_norm_eval(x, r.mean, r.var_biased, gamma, beta, eps);
  return r;
}

Arr batch_norm_eval(const Arr& x, const Arr& running_mean, const Arr& running_var, const Arr& gamma,
                    const Arr& beta, double eps) {
  if (ndim(x) < 1) throw std::invalid_argument("ref::batch_norm_eval: x must have a channel axis");
  int64_t c = x.shape.back();
  auto check = [&](const Arr& p, const char* name) {
    if (p.shape != std::vector<int64_t>{c})
      throw std::invalid_argument(std::string("ref::batch_norm: ") + name + " must be [C]");
  };
  check(running_mean, "mean");
  check(running_var, "var");
  if (!gamma.v.empty()) check(gamma, "gamma");
  if (!beta.v.empty()) check(beta, "beta");
  Arr out = make(x.shape);
  for (int64_t i = 0; i < numel(x); ++i) {
    int64_t ch = i % c;
    double g = gamma.v.empty() ? 1.0 : gamma.v[ch];
    double b = beta.v.empty() ? 0.0 : beta.v[ch];
    out.v[i] = (x.v[i] - running_mean.v[ch]) / std::sqrt(running_var.v[ch] + eps) * g + b;
  }
  return out;
}

namespace {

// Output size of a pooling window sweep (floor mode).
void pool_dims(const Arr& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
               int64_t& oh, int64_t& ow) {
  if (ndim(x) != 4) throw std::invalid_argument("ref::pool: x must be NHWC");
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0)
    throw std::invalid_argument("ref::pool: bad window/stride/pad");
  int64_t h = x.shape[1], w = x.shape[2];
  if (h + 2 * ph < kh || w + 2 * pw < kw) throw std::invalid_argument("ref::pool: window too big");
  oh = (h + 2 * ph - kh) / sh + 1;
  ow = (w + 2 * pw - kw) / sw + 1;
}

}  // namespace

Arr max_pool2d(const Arr& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  int64_t oh, ow;
  pool_dims(x, kh, kw, sh, sw, ph, pw, oh, ow);
  int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Arr out = make({n, oh, ow, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t ch = 0; ch < c; ++ch) {
          double m = -std::numeric_limits<double>::infinity();  // padded cells are -inf
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              int64_t iy = y * sh - ph + i, ix = xo * sw - pw + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              m = std::max(m, at(x, {b, iy, ix, ch}));
            }
          at(out, {b, y, xo, ch}) = m;
        }
  return out;
}

Arr avg_pool2d(const Arr& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
               bool count_include_pad) {
  int64_t oh, ow;
  pool_dims(x, kh, kw, sh, sw, ph, pw, oh, ow);
  int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Arr out = make({n, oh, ow, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo)
        for (int64_t ch = 0; ch < c; ++ch) {
          double s = 0.0;
          int64_t inside = 0;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              int64_t iy = y * sh - ph + i, ix = xo * sw - pw + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              s += at(x, {b, iy, ix, ch});
              ++inside;
            }
          double divisor = count_include_pad ? static_cast<double>(kh * kw) : static_cast<double>(inside);
          at(out, {b, y, xo, ch}) = s / divisor;
        }
  return out;
}

Arr global_avg_pool(const Arr& x) {
  if (ndim(x) != 4) throw std::invalid_argument("ref::global_avg_pool: x must be NHWC");
  int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Arr out = make({n, c}, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0.0;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) s += at(x, {b, i, j, ch});
      at(out, {b, ch}) = s / static_cast<double>(h * w);
    }
  return out;
}

}  // namespace lowbit::ref
