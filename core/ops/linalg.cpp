// Matrix products: matmul (2-d and batched 3-d) and linear, forward and backward, on the GEMM of
// kernels/cpu/gemm.h. Backward passes reuse the GEMM with its transpose flags (no transposed
// copies): for C = A B, dA = dC B^T and dB = A^T dC; for y = x W^T + b, dx = dy W,
// dW = dy^T x and db = the column sums of dy.
#include "core/ops/linalg.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/cpu/gemm.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/gemm.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

// Sizes of one product out[M,N] = op(a)[M,K] op(b)[K,N], repeated `batch` times.
struct Gemm {
  int64_t batch, M, N, K;
};

// out = op(a) op(b) for each of the batch's stacked matrices; a and b contiguous. a is stored
// [M,K] ([K,M] when ta), b [K,N] ([N,K] when tb).
Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb, Gemm s, const Shape& out_shape, const char* name) {
  Tensor out = Tensor::empty(out_shape, DType::f32, a.device());
  switch (a.device().type) {
    case DeviceType::CPU: {
      const float* pa = a.data<float>();
      const float* pb = b.data<float>();
      float* pc = out.data<float>();
      for (int64_t i = 0; i < s.batch; ++i)
        cpu::gemm(ta, tb, s.M, s.N, s.K, 1.f, pa + i * s.M * s.K, ta ? s.M : s.K, pb + i * s.K * s.N, tb ? s.K : s.N,
                  0.f, pc + i * s.M * s.N, s.N);
      break;
    }
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::gemm_strided_batched(ta, tb, s.M, s.N, s.K, 1.f, a.data<float>(), ta ? s.M : s.K, s.M * s.K,
                                 b.data<float>(), tb ? s.K : s.N, s.K * s.N, 0.f, out.data<float>(), s.N, s.M * s.N,
                                 s.batch);
#else
      cuda_missing(name);
#endif
      break;
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_dtype(a_in, DType::f32, "matmul", "a");
  check_dtype(b_in, DType::f32, "matmul", "b");
  check_same_device(a_in, b_in, "matmul");
  const Shape &sa = a_in.shape(), &sb = b_in.shape();
  LOWBIT_CHECK((sa.size() == 2 && sb.size() == 2) || (sa.size() == 3 && sb.size() == 3),
               "matmul: expects [M,K] x [K,N] or [B,M,K] x [B,K,N], got a ", shape_str(sa), " and b ", shape_str(sb));
  bool batched = sa.size() == 3;
  LOWBIT_CHECK(!batched || sa[0] == sb[0], "matmul: batch sizes differ: a ", shape_str(sa), " and b ", shape_str(sb));
  LOWBIT_CHECK(sa.back() == sb[sb.size() - 2], "matmul: inner dimensions differ: a ", shape_str(sa), " and b ",
               shape_str(sb));
  int64_t batch = batched ? sa[0] : 1, M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  Shape out_shape = batched ? Shape{batch, M, N} : Shape{M, N};

  Tensor a = a_in.contiguous(), b = b_in.contiguous();
  Tensor out = product(a, b, false, false, {batch, M, N, K}, out_shape, "matmul");
  if (needs_grad({&a_in, &b_in})) {
    bool ga = a_in.requires_grad(), gb = b_in.requires_grad();
    Tensor ad = gb ? a.detach() : Tensor(), bd = ga ? b.detach() : Tensor();  // dB needs A, dA needs B
    record(out, "matmul", {a_in, b_in}, [=](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor da = ga ? product(g, bd, false, true, {batch, M, K, N}, sa, "matmul backward") : Tensor();
      Tensor db = gb ? product(ad, g, true, false, {batch, K, N, M}, sb, "matmul backward") : Tensor();
      return Grads{da, db};
    });
  }
  return out;
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
  check_dtype(x_in, DType::f32, "linear", "x");
  check_dtype(w_in, DType::f32, "linear", "weight");
  check_same_device(x_in, w_in, "linear");
  LOWBIT_CHECK(x_in.dim() == 2 && w_in.dim() == 2 && x_in.size(1) == w_in.size(1),
               "linear: expects x [N,in] and weight [out,in], got x ", shape_str(x_in.shape()), " and weight ",
               shape_str(w_in.shape()));
  int64_t rows = x_in.size(0), in = x_in.size(1), out_f = w_in.size(0);
  bool has_bias = b_in.defined();
  if (has_bias) {
    check_dtype(b_in, DType::f32, "linear", "bias");
    check_same_device(x_in, b_in, "linear");
    LOWBIT_CHECK(b_in.shape() == Shape{out_f}, "linear: bias must be [out] = [", out_f, "] for weight ",
                 shape_str(w_in.shape()), ", got ", shape_str(b_in.shape()));
  }

  Tensor x = x_in.contiguous(), w = w_in.contiguous();
  Tensor b = has_bias ? b_in.contiguous() : Tensor();
  Tensor y = product(x, w, false, true, {1, rows, out_f, in}, {rows, out_f}, "linear");
  if (has_bias) {
    switch (y.device().type) {
      case DeviceType::CPU:
        cpu::add_row_bias(y.data<float>(), out_f, b.data<float>(), rows, out_f);
        break;
      case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
        cuda::add_row_bias(y.data<float>(), out_f, b.data<float>(), rows, out_f);
#else
        cuda_missing("linear");
#endif
        break;
    }
  }
  if (needs_grad({&x_in, &w_in, &b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.requires_grad(), gb = has_bias && b_in.requires_grad();
    Tensor xd = gw ? x.detach() : Tensor(), wd = gx ? w.detach() : Tensor();
    Shape sx = x_in.shape(), sw = w_in.shape();
    record(y, "linear", {x_in, w_in, b_in}, [=](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = gx ? product(g, wd, false, false, {1, rows, in, out_f}, sx, "linear backward") : Tensor();
      Tensor dw = gw ? product(g, xd, true, false, {1, out_f, in, rows}, sw, "linear backward") : Tensor();
      Tensor db;
      if (gb) {
        db = Tensor::empty({out_f}, DType::f32, g.device());
        switch (g.device().type) {
          case DeviceType::CPU:
            cpu::column_sums(g.data<float>(), out_f, rows, out_f, db.data<float>());
            break;
          case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
            cuda::column_sums(g.data<float>(), out_f, rows, out_f, db.data<float>());
#else
            cuda_missing("linear backward");
#endif
            break;
        }
      }
      return Grads{dx, dw, db};
    });
  }
  return y;
}

}  // namespace lowbit
