// Every tolerance the test suite uses, in one place. f32 kernels against float64 references.
#pragma once

namespace lowbit::test {

// Forward values of f32 ops vs float64 references: |got - want| <= atol + rtol * |want|.
inline constexpr double kForwardAtol = 1e-5;
inline constexpr double kForwardRtol = 1e-5;
// Reductions and GEMM-like ops accumulate many terms in f32.
inline constexpr double kAccumAtol = 1e-4;
inline constexpr double kAccumRtol = 1e-4;
// Two f32 evaluations of sums over ~1e6 O(1) terms (e.g. a whole batch's weight gradient)
// summed in different orders; the sums reach ~1e3, so absolute rounding differences reach ~1e-3.
inline constexpr double kLongSumAtol = 1e-2;
// Analytic (f32) gradients vs central differences of the float64 reference.
inline constexpr double kGradAtol = 1e-4;
inline constexpr double kGradRtol = 1e-3;
// Central-difference step on the float64 reference.
inline constexpr double kFiniteDiffEps = 1e-6;

// Sample mean/variance of 20,000 seeded random draws vs the distribution's (>= 5 standard errors).
inline constexpr double kSampleMomentAtol = 0.05;
// Sample std of >= 1e5 seeded draws vs the distribution's, relative (the standard error of a
// sample std is std/sqrt(2n) <= 0.23%, so 2% is > 8 standard errors); initializers' tests.
inline constexpr double kSampleStdRtol = 0.02;

// Statistics of a real data set (per-channel mean/std of its [0, 1] pixels) vs published values
// given to 4-5 decimals.
inline constexpr double kDatasetStatAtol = 1e-3;
// Fraction of heads among 10,000 fair coin flips vs 1/2 (5 standard errors: 5 * 0.005).
inline constexpr double kCoinFractionAtol = 0.025;

// EWGS Hessian estimator (quant/hessian_delta.h): the float32 central-difference H·d (step 1e-3
// of the level spacing) vs the exact float64 product, relative to max|H·d| (gradient rounding
// noise ~1e-7·|g| amplified by 1/ε ≈ 3e3 gives ~1e-4 of it); and Hutchinson's mean over K probes
// vs the exact trace, in standard errors (σ/√K with σ computed from the exact Hessian).
inline constexpr double kHessianFdRtol = 2e-3;
inline constexpr double kHutchinsonSigmas = 5.0;

}  // namespace lowbit::test
