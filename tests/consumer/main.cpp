// Uses the installed liblowbit.so: a small autograd computation whose result is known exactly.
#include <cstdio>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

int main() {
  using namespace lowbit;
  Tensor x = Tensor::from_vector({1.f, 2.f, 3.f}, {3});
  x.requires_grad_();
  Tensor y = sum(mul(x, x));  // 14, gradient 2x
  y.backward();
  std::vector<float> g = x.grad().to_vector();
  bool ok = y.item() == 14.f && g[0] == 2.f && g[1] == 4.f && g[2] == 6.f;
  std::printf("lowbit consumer: y=%g grad=[%g %g %g] %s\n", y.item(), g[0], g[1], g[2], ok ? "OK" : "WRONG");
  return ok ? 0 : 1;
}
