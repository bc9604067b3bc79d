// Elementwise ops with numpy broadcasting (f32), their backward passes, comparisons and the
// arithmetic operators. Per-element math: kernels/elementwise_math.h.
#pragma once

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

LOWBIT_API Tensor add(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor sub(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor mul(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor div(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor add(const Tensor& a, float s);
LOWBIT_API Tensor mul(const Tensor& a, float s);

LOWBIT_API Tensor neg(const Tensor& x);
LOWBIT_API Tensor pow(const Tensor& x, float exponent);
LOWBIT_API Tensor exp(const Tensor& x);
LOWBIT_API Tensor log(const Tensor& x);
LOWBIT_API Tensor sqrt(const Tensor& x);
LOWBIT_API Tensor abs(const Tensor& x);   // gradient sign(x), 0 at 0
LOWBIT_API Tensor sign(const Tensor& x);  // -1, 0, +1; gradient 0
LOWBIT_API Tensor clamp(const Tensor& x, float lo, float hi);  // gradient 1 on [lo, hi]
LOWBIT_API Tensor relu(const Tensor& x);                       // gradient 0 at 0
LOWBIT_API Tensor hardtanh(const Tensor& x, float lo = -1.f, float hi = 1.f);
LOWBIT_API Tensor tanh(const Tensor& x);
LOWBIT_API Tensor sigmoid(const Tensor& x);
// cond (u8, nonzero = true) selects a, else b; all three broadcast together.
LOWBIT_API Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons (not differentiable): u8 tensors of 0/1, with broadcasting.
LOWBIT_API Tensor gt(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor lt(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor ge(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor le(const Tensor& a, const Tensor& b);
LOWBIT_API Tensor eq(const Tensor& a, const Tensor& b);

// Broadcast result shape (numpy rules); throws naming both shapes when incompatible.
LOWBIT_API Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Sums a broadcast gradient back down to `shape` (the backward of broadcasting).
LOWBIT_API Tensor sum_to(const Tensor& g, const Shape& shape);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add(a, -s); }
inline Tensor operator-(float s, const Tensor& a) { return add(neg(a), s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul(a, 1.0f / s); }

}  // namespace lowbit
