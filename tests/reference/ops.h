// Reference (oracle) operators for lowbit tests: naive float64 loops that the
// test suite compares lowbit's kernels against. Standard library only.
// Conventions: row-major Arr; images are NHWC, conv weights are OHWI;
// axes may be negative; an Arr with empty `v` means "absent" (e.g. no bias).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "tests/reference/array.h"

namespace lowbit::ref {

// ---- elementwise / broadcasting / shape ops (elementwise.cpp) ----
std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
Arr binary(const Arr& a, const Arr& b, std::function<double(double, double)> f);  // numpy broadcasting
Arr unary(const Arr& a, std::function<double(double)> f);
Arr sum_to(const Arr& g, const std::vector<int64_t>& shape);  // reduce broadcast grad to `shape`
Arr pad(const Arr& x, const std::vector<std::pair<int64_t, int64_t>>& before_after, double value);
Arr cat(const std::vector<Arr>& xs, int64_t axis);
Arr permute(const Arr& x, const std::vector<int64_t>& perm);
Arr slice(const Arr& x, int64_t axis, int64_t start, int64_t stop, int64_t step = 1);  // Python semantics
double weighted_sum(const Arr& out, const Arr& weights);  // sum(out * weights), shapes must match
// Central differences of scalar f w.r.t. every element of inputs[which].
Arr numeric_grad(std::function<double(const std::vector<Arr>&)> f, std::vector<Arr> inputs,
                 size_t which, double eps = 1e-6);

// ---- reductions / softmax / loss (reduce.cpp) ----
// `axes` empty = reduce over all axes. keepdim keeps reduced axes as size 1.
Arr sum(const Arr& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Arr mean(const Arr& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Arr max(const Arr& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);  // NaN propagates
Arr min(const Arr& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);  // NaN propagates
Arr var(const Arr& x, const std::vector<int64_t>& axes, bool unbiased, bool keepdim = false);
Arr std(const Arr& x, const std::vector<int64_t>& axes, bool unbiased, bool keepdim = false);
Arr argmax(const Arr& x, int64_t axis, bool keepdim = false);  // first index on ties, as doubles
Arr softmax(const Arr& x, int64_t axis);
Arr log_softmax(const Arr& x, int64_t axis);
// Mean over rows of (1-eps)*(-logp[i,y_i]) + eps*mean_k(-logp[i,k]). logits [N,K].
double cross_entropy(const Arr& logits, const std::vector<int64_t>& labels, double label_smoothing = 0.0);

// ---- nn ops (nn.cpp) ----
Arr matmul(const Arr& a, const Arr& b);            // [M,K]x[K,N] or [B,M,K]x[B,K,N]
Arr linear(const Arr& x, const Arr& w, const Arr& b);  // x [...,in], w [out,in], b [out] or empty
// x NHWC [N,H,W,C], w OHWI [O,KH,KW,C/groups], bias [O] or empty -> [N,OH,OW,O]
Arr conv2d(const Arr& x, const Arr& w, const Arr& bias, int64_t stride_h, int64_t stride_w,
           int64_t pad_h, int64_t pad_w, int64_t groups = 1);

struct BatchNormTrainOut {
  Arr y;             // normalized output, same shape as x
  Arr mean;          // [C] batch mean
  Arr var_unbiased;  // [C] unbiased batch variance (for running-stat updates)
  Arr var_biased;    // [C] biased batch variance (the one used to normalize)
};
// Channel = last axis of x ([N,C] or [N,H,W,C]). gamma/beta [C] or empty (=1 / =0).
BatchNormTrainOut batch_norm_train(const Arr& x, const Arr& gamma, const Arr& beta, double eps);
Arr batch_norm_eval(const Arr& x, const Arr& running_mean, const Arr& running_var, const Arr& gamma,
                    const Arr& beta, double eps);

// Pools on NHWC; OH = (H + 2*ph - kh)/sh + 1.
Arr max_pool2d(const Arr& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw);
Arr avg_pool2d(const Arr& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
               bool count_include_pad);
Arr global_avg_pool(const Arr& x);  // [N,H,W,C] -> [N,C]

}  // namespace lowbit::ref
