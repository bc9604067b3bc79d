// The process-wide default generator.
#include "core/random.h"

namespace lowbit {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace lowbit
