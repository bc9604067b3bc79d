// Division by a divisor that many dividends share (a quantizer's step, clip or level count), equal
// bit for bit to the IEEE quotient a / b, for the per-element math of kernels/quant/*_math.h.
//
// Why: nvcc compiles every f32 `a / b` to a reciprocal (MUFU.RCP), a Newton step, one quotient
// correction and an FCHK range test that sends hard cases, zero dividends included, to a slow
// subroutine. The reciprocal is recomputed per element and the slow path splits warps wherever
// dividends are 0 (half of all PACT/CG-PACT inputs): the quantizer kernels became compute-bound.
// Here the correctly rounded reciprocal y = RN(1/b) (__frcp_rn) is computed once per divisor and
// each quotient costs one multiply and four FMAs:
//   q0 = RN(a·y) (within 1.5 ulp of a/b), r0 = a − b·q0, q1 = RN(q0 + r0·y) (faithful),
//   r1 = a − b·q1 (exact), q = RN(q1 + r1·y) = RN(a/b)   (Markstein's theorem, y = RN(1/b)),
// valid while nothing leaves the normal range: |a| and |b| in [2^-60, 2^60] keeps every quotient,
// product and remainder normal. A power-of-two divisor in that range has an exact reciprocal, so
// a·y is already the quotient. A zero dividend gives a·y (the IEEE signed zero); any other
// dividend or divisor (tiny, huge, subnormal, infinite, NaN) takes the plain a / b.
// On the host (CPU loops, tests) it is the plain a / b.
//
// divide(a, d) accepts a float divisor too, so one formula template serves both.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace lowbit {

struct ExactDivisor {
  float b = 1.f;
  float y = 1.f;      // RN(1/b) on the device
  bool fast = false;  // b in the range of the reciprocal path (device only)
  bool pow2 = false;  // fast and b = ±2^e: y is exact

  LOWBIT_HD explicit ExactDivisor(float divisor) : b(divisor) {
#if defined(__CUDA_ARCH__)
    const float m = fabsf(divisor);
    fast = m >= 0x1p-60f && m <= 0x1p60f;
    pow2 = fast && (__float_as_uint(divisor) & 0x7fffffu) == 0u;
    y = __frcp_rn(divisor);
#endif
  }

  // a / b, correctly rounded.
  LOWBIT_HD float operator()(float a) const {
#if defined(__CUDA_ARCH__)
    if (fast) {
      const float m = fabsf(a);
      if (m >= 0x1p-60f && m <= 0x1p60f) {
        const float q0 = __fmul_rn(a, y);
        if (pow2) return q0;
        const float q1 = fmaf(fmaf(-b, q0, a), y, q0);
        return fmaf(fmaf(-b, q1, a), y, q1);
      }
      if (m == 0.f) return __fmul_rn(a, y);
    }
#endif
    return a / b;
  }
};

LOWBIT_HD float divide(float a, float b) { return a / b; }
LOWBIT_HD float divide(float a, const ExactDivisor& d) { return d(a); }

}  // namespace lowbit
