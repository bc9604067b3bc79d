// CPU batch normalization: row-major passes over [rows, C] with per-channel accumulators, so the
// inner loop runs along contiguous channels. Memory-bound: stats read x twice (8 B/elem),
// forward reads x and writes y (8 B/elem), backward reads x and gy twice and writes gx
// (20 B/elem); about 5 flops per element per pass.
#include "kernels/cpu/norm.h"

#include <vector>

#include "kernels/norm_math.h"

namespace lowbit::cpu {

namespace {

std::vector<double> inv_std(const float* var, int64_t channels, float eps) {
  std::vector<double> r(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) r[static_cast<size_t>(c)] = bn_inv_std(var[c], eps);
  return r;
}

}  // namespace

void batch_norm_stats(const float* x, int64_t rows, int64_t channels, float* mean, float* var) {
  std::vector<double> sum(static_cast<size_t>(channels), 0.0), sq(static_cast<size_t>(channels), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) sum[static_cast<size_t>(c)] += x[r * channels + c];
  double inv_rows = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  for (auto& s : sum) s *= inv_rows;  // now the mean
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      double d = x[r * channels + c] - sum[static_cast<size_t>(c)];
      sq[static_cast<size_t>(c)] += d * d;
    }
  for (int64_t c = 0; c < channels; ++c) {
    mean[c] = static_cast<float>(sum[static_cast<size_t>(c)]);
    var[c] = static_cast<float>(sq[static_cast<size_t>(c)] * inv_rows);
  }
}

void batch_norm_forward(const float* x, int64_t rows, int64_t channels, const float* mean, const float* var,
                        float eps, const float* gamma, const float* beta, float* y) {
  // Folded into one multiply-add per element: y = x·scale + shift.
  std::vector<float> scale(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels));
  std::vector<double> is = inv_std(var, channels, eps);
  for (int64_t c = 0; c < channels; ++c) {
    auto k = static_cast<size_t>(c);
    bn_scale_shift(mean[c], is[k], gamma ? gamma + c : nullptr, beta ? beta + c : nullptr, scale[k], shift[k]);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c)
      y[r * channels + c] = bn_normalize(x[r * channels + c], scale[static_cast<size_t>(c)], shift[static_cast<size_t>(c)]);
}

void batch_norm_backward(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                         const float* var, float eps, const float* gamma, bool training, float* gx, float* ggamma,
                         float* gbeta) {
  auto C = static_cast<size_t>(channels);
  std::vector<double> is = inv_std(var, channels, eps);
  std::vector<double> sum_g(C, 0.0), sum_gx(C, 0.0);  // Σ gy and Σ gy·xhat
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      auto k = static_cast<size_t>(c);
      double g = gy[r * channels + c];
      sum_g[k] += g;
      sum_gx[k] += bn_grad_xhat_term(g, x[r * channels + c], mean[c], is[k]);
    }
  for (int64_t c = 0; c < channels; ++c) {
    if (gbeta) gbeta[c] = static_cast<float>(sum_g[static_cast<size_t>(c)]);
    if (ggamma) ggamma[c] = static_cast<float>(sum_gx[static_cast<size_t>(c)]);
  }
  if (!gx) return;
  double inv_rows = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      auto k = static_cast<size_t>(c);
      gx[r * channels + c] = bn_grad_x(x[r * channels + c], gy[r * channels + c], mean[c], is[k],
                                       gamma ? gamma + c : nullptr, sum_g[k], sum_gx[k], inv_rows, training);
    }
}

void batch_norm_backward_x(const float* x, const float* gy, int64_t rows, int64_t channels, const float* mean,
                           const float* var, float eps, const float* gamma, const float* mean_g,
                           const float* mean_gx, float* gx) {
  std::vector<double> is = inv_std(var, channels, eps);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c)
      gx[r * channels + c] = bn_grad_x(x[r * channels + c], gy[r * channels + c], mean[c], is[static_cast<size_t>(c)],
                                       gamma ? gamma + c : nullptr, mean_g[c], mean_gx[c], 1.0, true);
}

}  // namespace lowbit::cpu
