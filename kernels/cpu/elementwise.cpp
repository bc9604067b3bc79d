// CPU elementwise kernels. Unary: flat loops. Binary: one walk over the output rows, with each
// input's offset from its broadcast strides and an inner loop along the last axis.
// Memory-bound: 8-12 bytes per element.
#include "kernels/cpu/elementwise.h"

#include <vector>

namespace lowbit::cpu {

void unary_forward(UnaryOp op, const float* x, float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = lowbit::unary_forward(op, x[i], a, b);
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx, int64_t n,
                    float a, float b) {
  for (int64_t i = 0; i < n; ++i) gx[i] = unary_grad(op, x[i], y ? y[i] : 0.f, gy[i], a, b);
}

namespace {

// Calls body(out_index, offsets...) row by row; `args` holds K broadcast inputs.
template <size_t K, typename Body>
void for_each_broadcast(const BroadcastArg (&args)[K], const int64_t* shape, int64_t rank, Body body) {
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i) total *= shape[i];
  if (total == 0) return;
  int64_t inner = rank ? shape[rank - 1] : 1;
  int64_t rows = total / inner;
  std::vector<int64_t> idx(static_cast<size_t>(rank > 0 ? rank : 1), 0);
  int64_t base[K], step[K];
  for (size_t k = 0; k < K; ++k) step[k] = rank ? args[k].strides[rank - 1] : 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t k = 0; k < K; ++k) {
      base[k] = 0;
      for (int64_t d = 0; d + 1 < rank; ++d) base[k] += idx[static_cast<size_t>(d)] * args[k].strides[d];
    }
    body(r * inner, inner, base, step);
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < shape[d]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
}

}  // namespace

void binary(BinaryOp op, BroadcastArg a, BroadcastArg b, float* out, const int64_t* out_shape, int64_t rank) {
  const auto* pa = static_cast<const float*>(a.data);
  const auto* pb = static_cast<const float*>(b.data);
  BroadcastArg args[2] = {a, b};
  for_each_broadcast(args, out_shape, rank, [&](int64_t o, int64_t n, const int64_t* base, const int64_t* step) {
    const float* x = pa + base[0];
    const float* y = pb + base[1];
    float* z = out + o;
    if (step[0] == 1 && step[1] == 1) {
      for (int64_t i = 0; i < n; ++i) z[i] = binary_forward(op, x[i], y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) z[i] = binary_forward(op, x[i * step[0]], y[i * step[1]]);
    }
  });
}

void compare(CompareOp op, BroadcastArg a, BroadcastArg b, uint8_t* out, const int64_t* out_shape, int64_t rank) {
  const auto* pa = static_cast<const float*>(a.data);
  const auto* pb = static_cast<const float*>(b.data);
  BroadcastArg args[2] = {a, b};
  for_each_broadcast(args, out_shape, rank, [&](int64_t o, int64_t n, const int64_t* base, const int64_t* step) {
    for (int64_t i = 0; i < n; ++i)
      out[o + i] = lowbit::compare(op, pa[base[0] + i * step[0]], pb[base[1] + i * step[1]]) ? 1 : 0;
  });
}

void where(BroadcastArg cond, BroadcastArg a, BroadcastArg b, float* out, const int64_t* out_shape, int64_t rank) {
  const auto* pc = static_cast<const uint8_t*>(cond.data);
  const auto* pa = static_cast<const float*>(a.data);
  const auto* pb = static_cast<const float*>(b.data);
  BroadcastArg args[3] = {cond, a, b};
  for_each_broadcast(args, out_shape, rank, [&](int64_t o, int64_t n, const int64_t* base, const int64_t* step) {
    for (int64_t i = 0; i < n; ++i)
      out[o + i] = pc[base[0] + i * step[0]] ? pa[base[1] + i * step[1]] : pb[base[2] + i * step[2]];
  });
}

}  // namespace lowbit::cpu
