// Every tolerance the test suite uses, in one place. f32 kernels against float64 references.
#pragma once

namespace lowbit::test {

// Forward values of f32 ops vs float64 references: |got - want| <= atol + rtol * |want|.
inline constexpr double kForwardAtol = 1e-5;
inline constexpr double kForwardRtol = 1e-5;
// Reductions and GEMM-like ops accumulate many terms in f32.
inline constexpr double kAccumAtol = 1e-4;
inline constexpr double kAccumRtol = 1e-4;
// Analytic (f32) gradients vs central differences of the float64 reference.
inline constexpr double kGradAtol = 1e-4;
inline constexpr double kGradRtol = 1e-3;
// Central-difference step on the float64 reference.
inline constexpr double kFiniteDiffEps = 1e-6;

}  // namespace lowbit::test
