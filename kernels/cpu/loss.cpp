// CPU softmax and cross-entropy. Softmax works on one [K, inner] block at a time with inner-long
// accumulators, so every pass runs along contiguous memory: three passes (max, exp-sum, write)
// reading 4 B and writing 4 B per element, one exp per element. Cross-entropy is one row at a
// time: max, log-sum-exp, then the loss terms and (optionally) the gradient row.
#include "kernels/cpu/loss.h"

#include <cmath>
#include <limits>
#include <vector>

namespace lowbit::cpu {

void softmax_forward(const float* x, int64_t outer, int64_t k, int64_t inner, bool log, float* y) {
  auto I = static_cast<size_t>(inner);
  std::vector<float> mx(I);
  std::vector<double> sum(I);
  for (int64_t o = 0; o < outer; ++o) {
    const float* xb = x + o * k * inner;
    float* yb = y + o * k * inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) mx[i] = std::fmax(mx[i], xb[j * inner + static_cast<int64_t>(i)]);
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) sum[i] += std::exp(double{xb[j * inner + static_cast<int64_t>(i)]} - mx[i]);
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) {
        double z = double{xb[j * inner + static_cast<int64_t>(i)]} - mx[i];
        yb[j * inner + static_cast<int64_t>(i)] = static_cast<float>(log ? z - std::log(sum[i]) : std::exp(z) / sum[i]);
      }
  }
}

void softmax_backward(const float* y, const float* gy, int64_t outer, int64_t k, int64_t inner, bool log,
                      float* gx) {
  auto I = static_cast<size_t>(inner);
  std::vector<double> dot(I);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t base = o * k * inner;
    std::fill(dot.begin(), dot.end(), 0.0);
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) {
        int64_t e = base + j * inner + static_cast<int64_t>(i);
        dot[i] += log ? double{gy[e]} : double{gy[e]} * y[e];
      }
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) {
        int64_t e = base + j * inner + static_cast<int64_t>(i);
        gx[e] = static_cast<float>(log ? gy[e] - std::exp(double{y[e]}) * dot[i] : y[e] * (gy[e] - dot[i]));
      }
  }
}

int64_t cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t k, float smoothing,
                              float* loss, float* grad) {
  for (int64_t r = 0; r < n; ++r)
    if (labels[r] < 0 || labels[r] >= k) return r;
  double eps = smoothing, total = 0.0, inv_n = 1.0 / static_cast<double>(n);
  for (int64_t r = 0; r < n; ++r) {
    const float* row = logits + r * k;
    double mx = -std::numeric_limits<double>::infinity(), sum_x = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      mx = std::fmax(mx, double{row[j]});
      sum_x += row[j];
    }
    double se = 0.0;
    for (int64_t j = 0; j < k; ++j) se += std::exp(row[j] - mx);
    double lse = mx + std::log(se);
    int32_t y = labels[r];
    // −log p[j] = lse − x[j]
    total += (1.0 - eps) * (lse - row[y]) + eps * (lse - sum_x / static_cast<double>(k));
    if (grad) {
      for (int64_t j = 0; j < k; ++j) {
        double target = (j == y ? 1.0 - eps : 0.0) + eps / static_cast<double>(k);
        grad[r * k + j] = static_cast<float>((std::exp(row[j] - lse) - target) * inv_n);
      }
    }
  }
  *loss = static_cast<float>(total * inv_n);
  return -1;
}

}  // namespace lowbit::cpu
