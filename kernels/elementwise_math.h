// Per-element math of the elementwise ops, written once for host and device (LOWBIT_HD):
// forward value, and the backward factor dy/dx given x and y = f(x). The mask conventions at
// non-smooth points are decided here: relu'(0) = 0, clamp/hardtanh' = 1 on the closed interval
// [lo, hi], abs'(0) = 0, sign' = 0.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/hd.h"

namespace lowbit {

enum class UnaryOp : uint8_t { neg, exp, log, sqrt, abs, sign, relu, tanh, sigmoid, pow, clamp, add_scalar, mul_scalar };
enum class BinaryOp : uint8_t { add, sub, mul, div };
enum class CompareOp : uint8_t { gt, lt, ge, le, eq };

// a, b: the op's scalar parameters (pow: exponent a; clamp: [a, b]; add/mul_scalar: a).
LOWBIT_HD float unary_forward(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return ::expf(x);
    case UnaryOp::log: return ::logf(x);
    case UnaryOp::sqrt: return ::sqrtf(x);
    case UnaryOp::abs: return ::fabsf(x);
    case UnaryOp::sign: return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f);
    case UnaryOp::relu: return x > 0.f ? x : 0.f;
    case UnaryOp::tanh: return ::tanhf(x);
    case UnaryOp::sigmoid: return 1.f / (1.f + ::expf(-x));
    case UnaryOp::pow: return ::powf(x, a);
    case UnaryOp::clamp: return x < a ? a : (x > b ? b : x);
    case UnaryOp::add_scalar: return x + a;
    case UnaryOp::mul_scalar: return x * a;
  }
  return 0.f;
}

// dy/dx at x (y = unary_forward(op, x, a, b)).
LOWBIT_HD float unary_derivative(UnaryOp op, float x, float y, float a, float b) {
  switch (op) {
    case UnaryOp::neg: return -1.f;
    case UnaryOp::exp: return y;
    case UnaryOp::log: return 1.f / x;
    case UnaryOp::sqrt: return 0.5f / y;
    case UnaryOp::abs: return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f);
    case UnaryOp::sign: return 0.f;
    case UnaryOp::relu: return x > 0.f ? 1.f : 0.f;
    case UnaryOp::tanh: return 1.f - y * y;
    case UnaryOp::sigmoid: return y * (1.f - y);
    case UnaryOp::pow: return a == 0.f ? 0.f : a * ::powf(x, a - 1.f);
    case UnaryOp::clamp: return (x >= a && x <= b) ? 1.f : 0.f;
    case UnaryOp::add_scalar: return 1.f;
    case UnaryOp::mul_scalar: return a;
  }
  return 0.f;
}

// gx = gy · dy/dx (the unary backward of one element).
LOWBIT_HD float unary_grad(UnaryOp op, float x, float y, float gy, float a, float b) {
  return gy * unary_derivative(op, x, y, a, b);
}

LOWBIT_HD float binary_forward(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::sub: return x - y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
  }
  return 0.f;
}

LOWBIT_HD bool compare(CompareOp op, float x, float y) {
  switch (op) {
    case CompareOp::gt: return x > y;
    case CompareOp::lt: return x < y;
    case CompareOp::ge: return x >= y;
    case CompareOp::le: return x <= y;
    case CompareOp::eq: return x == y;
  }
  return false;
}

}  // namespace lowbit
