// Dropout module: checks p once at construction (the op checks it again on each call).
#include "layers/dropout.h"

#include "core/error.h"

namespace lowbit {

Dropout::Dropout(float p, Generator* gen) : p_(p), gen_(gen) {
  LOWBIT_CHECK(p >= 0.f && p < 1.f, "Dropout: p must be in [0, 1), got ", p);
}

}  // namespace lowbit
