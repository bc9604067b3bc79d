// DeterministicScope: OpenBLAS's thread-count calls (declared here: cblas.h's folder differs
// between OpenBLAS builds, and these two functions are all we need).
#include "tools/train/deterministic.h"

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace lowbit {

DeterministicScope::DeterministicScope(bool on) {
  if (!on) return;
  saved_threads_ = openblas_get_num_threads();
  openblas_set_num_threads(1);
}

DeterministicScope::~DeterministicScope() {
  if (saved_threads_ > 0) openblas_set_num_threads(saved_threads_);
}

}  // namespace lowbit
