// CPU softmax and cross-entropy. Softmax works on one [K, inner] block at a time with inner-long
// accumulators, so every pass runs along contiguous memory: three passes (max, exp-sum, write)
// reading 4 B and writing 4 B per element, one exp per element. Cross-entropy is one row at a
// time: max, log-sum-exp, then the loss terms and (optionally) the gradient row.
#include "kernels/cpu/loss.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/loss_math.h"

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
      for (size_t i = 0; i < I; ++i) sum[i] += exp_shifted(xb[j * inner + static_cast<int64_t>(i)], mx[i]);
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) {
        auto e = j * inner + static_cast<int64_t>(i);
        yb[e] = softmax_value(xb[e], mx[i], sum[i], log ? std::log(sum[i]) : 0.0, log);
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
        dot[i] += softmax_dot_term(y[e], gy[e], log);
      }
    for (int64_t j = 0; j < k; ++j)
      for (size_t i = 0; i < I; ++i) {
        int64_t e = base + j * inner + static_cast<int64_t>(i);
        gx[e] = softmax_grad(y[e], gy[e], dot[i], log);
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
    for (int64_t j = 0; j < k; ++j) se += exp_shifted(row[j], mx);
    double lse = mx + std::log(se);
    int32_t y = labels[r];
    total += cross_entropy_row_loss(lse, row[y], sum_x, k, eps);
    if (grad)
      for (int64_t j = 0; j < k; ++j) grad[r * k + j] = cross_entropy_grad(row[j], lse, j == y, k, eps, inv_n);
  }
  *loss = static_cast<float>(total * inv_n);
  return -1;
}

}  // namespace lowbit::cpu
