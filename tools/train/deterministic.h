// --deterministic on the CPU. lowbit's own CPU kernels give the same bits on every run, but
// OpenBLAS splits a GEMM among its threads differently for different thread counts, which changes
// the rounding (measured: one epoch of lenet5 ends at 86.63% with 1 thread and 86.81% with 2).
// A deterministic run therefore uses one BLAS thread, so its numbers depend only on its settings,
// not on the machine's core count or on OPENBLAS_NUM_THREADS. (Runs without it are still
// repeatable on one machine with one thread count.)
// TODO(CUDA backend issue): deterministic cuDNN/cuBLAS algorithms as well.
#pragma once

namespace lowbit {

// Sets the BLAS thread count to 1 while it lives (when `on`), and restores it after.
class DeterministicScope {
 public:
  explicit DeterministicScope(bool on);
  ~DeterministicScope();
  DeterministicScope(const DeterministicScope&) = delete;
  DeterministicScope& operator=(const DeterministicScope&) = delete;

 private:
  int saved_threads_ = 0;  // 0: nothing to restore
};

}  // namespace lowbit
