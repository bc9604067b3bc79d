// dropout: draws a Philox keep-mask (values 0 or 1/(1-p), kernels/cpu/random.h) from the
// generator's seed and next stream (CPU or CUDA, bit-identical), multiplies it in, and reuses the same mask in backward.
// p must lie in [0, 1): p = 1 is refused rather than silently returning zeros.
#include "core/ops/dropout.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "kernels/cpu/random.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/random.h"
#endif

namespace lowbit {

Tensor dropout(const Tensor& x, float p, bool training, Generator* gen) {
  LOWBIT_CHECK(p >= 0.f && p < 1.f, "dropout: p must be in [0, 1), got ", p,
               " (p = 1 would drop every element; leave the layer out instead)");
  check_dtype(x, DType::f32, "dropout", "x");
  if (!training) return x;
  Generator& g = gen ? *gen : default_generator();
  const uint64_t seed = g.seed(), stream = g.next_stream();
  const float scale = 1.f / (1.f - p);
  Tensor mask = Tensor::empty(x.shape(), DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::fill_dropout_mask(mask.data<float>(), mask.numel(), seed, stream, p, scale); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::fill_dropout_mask(mask.data<float>(), mask.numel(), seed, stream, p, scale);
#else
      cuda_missing("dropout");
#endif
      break;
  }
  Tensor y;
  {
    NoGradGuard no_grad;
    y = mul(x, mask);
  }
  if (needs_grad({&x})) record(y, "dropout", {x}, [mask](const Tensor& grad) { return std::vector<Tensor>{mul(grad, mask)}; });
  return y;
}

}  // namespace lowbit
