// conv2d: NHWC input, OHWI weights, stride, zero padding and groups, forward and backward.
// CPU path: per chunk of images and per channel group, im2col into a column matrix col
// [rows = nb*OH*OW, KK = KH*KW*C/groups], then y_g = col W_g^T (one GEMM; the output's row stride
// O interleaves the groups' channels in place). Backward: dcol = dy_g W_g then col2im into dx;
// dW_g += dy_g^T col; db = column sums of dy. A 1x1, stride-1, unpadded conv skips im2col: the
// input itself is the column matrix (row stride C).
#include "core/ops/conv.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "kernels/window.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/gemm.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/conv.h"
#include "kernels/cuda/gemm.h"
#endif

namespace lowbit {

namespace {

using Grads = std::vector<Tensor>;

constexpr int64_t kColBufferBytes = int64_t{256} << 20;  // the column buffer's budget per chunk

struct ConvPlan {
  cpu::ConvGeom g;
  int64_t N, O, groups, og;  // og: output channels per group
  bool direct;               // 1x1, stride 1, no padding: x is its own column matrix
  int64_t chunk;             // images per im2col pass
  Shape out_shape;
};

ConvPlan plan_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  check_dtype(x, DType::f32, "conv2d", "x");
  check_dtype(w, DType::f32, "conv2d", "weight");
  check_same_device(x, w, "conv2d");
  check_rank(x, 4, "conv2d", "x [N,H,W,C]");
  check_rank(w, 4, "conv2d", "weight [O,KH,KW,C/groups]");
  const Shape &sx = x.shape(), &sw = w.shape();
  LOWBIT_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.pad_h >= 0 && p.pad_w >= 0,
               "conv2d: stride must be >= 1 and padding >= 0, got stride (", p.stride_h, ",", p.stride_w,
               ") and padding (", p.pad_h, ",", p.pad_w, ")");
  LOWBIT_CHECK(p.groups >= 1, "conv2d: groups must be >= 1, got ", p.groups);
  ConvPlan plan;
  plan.N = sx[0];
  plan.O = sw[0];
  plan.groups = p.groups;
  int64_t H = sx[1], W = sx[2], C = sx[3], KH = sw[1], KW = sw[2];
  LOWBIT_CHECK(C % p.groups == 0, "conv2d: groups = ", p.groups, " must divide the input channels of x ",
               shape_str(sx));
  LOWBIT_CHECK(plan.O % p.groups == 0, "conv2d: groups = ", p.groups, " must divide the output channels of weight ",
               shape_str(sw));
  LOWBIT_CHECK(sw[3] == C / p.groups, "conv2d: weight ", shape_str(sw), " has ", sw[3],
               " input channels per group, but x ", shape_str(sx), " with groups = ", p.groups,
               " gives C/groups = ", C / p.groups);
  LOWBIT_CHECK(KH >= 1 && KW >= 1, "conv2d: empty kernel in weight ", shape_str(sw));
  LOWBIT_CHECK(H + 2 * p.pad_h >= KH && W + 2 * p.pad_w >= KW, "conv2d: kernel ", KH, "x", KW, " does not fit x ",
               shape_str(sx), " with padding (", p.pad_h, ",", p.pad_w, "): the output would be empty");
  if (bias.defined()) {
    check_dtype(bias, DType::f32, "conv2d", "bias");
    check_same_device(x, bias, "conv2d");
    LOWBIT_CHECK(bias.shape() == Shape{plan.O}, "conv2d: bias must be [O] = [", plan.O, "] for weight ", shape_str(sw),
                 ", got ", shape_str(bias.shape()));
  }
  int64_t OH = window_out_size(H, KH, p.stride_h, p.pad_h), OW = window_out_size(W, KW, p.stride_w, p.pad_w);
  plan.g = {H, W, C, KH, KW, OH, OW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, C / p.groups};
  plan.og = plan.O / p.groups;
  plan.direct = KH == 1 && KW == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
  int64_t image_bytes = std::max<int64_t>(1, plan.g.col_rows(1) * plan.g.col_cols() * int64_t{sizeof(float)});
  plan.chunk = std::clamp<int64_t>(kColBufferBytes / image_bytes, 1, std::max<int64_t>(plan.N, 1));
  plan.out_shape = {plan.N, OH, OW, plan.O};
  return plan;
}

// The column matrix of images [n0, n0 + nb), group grp: x itself on the direct path, else im2col
// into `col`. Returns the matrix and sets its row stride.
const float* columns(const ConvPlan& p, const float* x, int64_t nb, int64_t grp, float* col, int64_t& ld) {
  if (p.direct) {
    ld = p.g.C;
    return x + grp * p.g.cg;
  }
  cpu::im2col(x, p.g, nb, grp * p.g.cg, col);
  ld = p.g.col_cols();
  return col;
}

void conv_forward_cpu(const ConvPlan& p, const float* x, const float* w, const float* bias, float* y) {
  const cpu::ConvGeom& g = p.g;
  int64_t kk = g.col_cols();
  std::vector<float> col(p.direct ? 0 : static_cast<size_t>(g.col_rows(p.chunk) * kk));
  for (int64_t n0 = 0; n0 < p.N; n0 += p.chunk) {
    int64_t nb = std::min(p.chunk, p.N - n0), rows = g.col_rows(nb);
    const float* xs = x + n0 * g.H * g.W * g.C;
    float* ys = y + n0 * g.OH * g.OW * p.O;
    for (int64_t grp = 0; grp < p.groups; ++grp) {
      int64_t lda;
      const float* a = columns(p, xs, nb, grp, col.data(), lda);
      cpu::gemm(false, true, rows, p.og, kk, 1.f, a, lda, w + grp * p.og * kk, kk, 0.f, ys + grp * p.og, p.O);
    }
    if (bias) cpu::add_row_bias(ys, p.O, bias, rows, p.O);
  }
}

// Gradients of the requested inputs (null pointers are skipped; x is needed only for dw, w only
// for dx); dx and dw are overwritten.
void conv_backward_cpu(const ConvPlan& p, const float* x, const float* w, const float* gy, float* dx, float* dw,
                       float* db) {
  const cpu::ConvGeom& g = p.g;
  int64_t kk = g.col_cols();
  if (dx) std::fill_n(dx, p.N * g.H * g.W * g.C, 0.f);
  if (dw) std::fill_n(dw, p.O * kk, 0.f);
  std::vector<float> col(p.direct ? 0 : static_cast<size_t>(g.col_rows(p.chunk) * kk));
  for (int64_t n0 = 0; n0 < p.N; n0 += p.chunk) {
    int64_t nb = std::min(p.chunk, p.N - n0), rows = g.col_rows(nb);
    const float* xs = dw ? x + n0 * g.H * g.W * g.C : nullptr;
    const float* gys = gy + n0 * g.OH * g.OW * p.O;
    for (int64_t grp = 0; grp < p.groups; ++grp) {
      const float* gyg = gys + grp * p.og;                   // [rows, og], row stride O
      const float* wg = dx ? w + grp * p.og * kk : nullptr;  // [og, kk]
      if (dw) {
        int64_t lda;
        const float* a = columns(p, xs, nb, grp, col.data(), lda);
        cpu::gemm(true, false, p.og, kk, rows, 1.f, gyg, p.O, a, lda, 1.f, dw + grp * p.og * kk, kk);
      }
      if (dx) {
        float* dxs = dx + n0 * g.H * g.W * g.C;
        if (p.direct) {  // each input pixel feeds exactly one output pixel: write dx directly
          cpu::gemm(false, false, rows, g.cg, p.og, 1.f, gyg, p.O, wg, kk, 0.f, dxs + grp * g.cg, g.C);
        } else {
          cpu::gemm(false, false, rows, kk, p.og, 1.f, gyg, p.O, wg, kk, 0.f, col.data(), kk);
          cpu::col2im(col.data(), g, nb, grp * g.cg, dxs);
        }
      }
    }
  }
  if (db) cpu::column_sums(gy, p.O, p.N * g.OH * g.OW, p.O, db);
}

#if LOWBIT_WITH_CUDA
cuda::ConvShape cuda_shape(const ConvPlan& p) {
  const cpu::ConvGeom& g = p.g;
  return {p.N, g.H, g.W, g.C, p.O, g.KH, g.KW, g.OH, g.OW, g.sh, g.sw, g.ph, g.pw, p.groups};
}
#endif

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Conv2dParams& params) {
  ConvPlan p = plan_conv(x_in, w_in, b_in, params);
  Tensor x = x_in.contiguous(), w = w_in.contiguous();
  Tensor b = b_in.defined() ? b_in.contiguous() : Tensor();
  Tensor y = Tensor::empty(p.out_shape, DType::f32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      conv_forward_cpu(p, x.data<float>(), w.data<float>(), b.defined() ? b.data<float>() : nullptr, y.data<float>());
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::conv2d_forward(cuda_shape(p), x.data<float>(), w.data<float>(), b.defined() ? b.data<float>() : nullptr,
                           y.data<float>());
#else
      cuda_missing("conv2d");
#endif
      break;
  }
  if (needs_grad({&x_in, &w_in, &b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.requires_grad(), gb = b.defined() && b_in.requires_grad();
    Tensor xd = gw ? x.detach() : Tensor(), wd = gx ? w.detach() : Tensor();  // dW needs x, dx needs W
    Shape sx = x_in.shape(), sw = w_in.shape();
    record(y, "conv2d", {x_in, w_in, b_in}, [=](const Tensor& g_in) {
      Tensor g = g_in.contiguous();
      Tensor dx = gx ? Tensor::empty(sx, DType::f32, g.device()) : Tensor();
      Tensor dw = gw ? Tensor::empty(sw, DType::f32, g.device()) : Tensor();
      Tensor db = gb ? Tensor::empty({p.O}, DType::f32, g.device()) : Tensor();
      switch (g.device().type) {
        case DeviceType::CPU:
          conv_backward_cpu(p, gw ? xd.data<float>() : nullptr, gx ? wd.data<float>() : nullptr, g.data<float>(),
                            gx ? dx.data<float>() : nullptr, gw ? dw.data<float>() : nullptr,
                            gb ? db.data<float>() : nullptr);
          break;
        case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
          if (gx) cuda::conv2d_backward_data(cuda_shape(p), wd.data<float>(), g.data<float>(), dx.data<float>());
          if (gw) cuda::conv2d_backward_filter(cuda_shape(p), xd.data<float>(), g.data<float>(), dw.data<float>());
          if (gb) cuda::column_sums(g.data<float>(), p.O, p.N * p.g.OH * p.g.OW, p.O, db.data<float>());
#else
          cuda_missing("conv2d backward");
#endif
          break;
      }
      return Grads{dx, dw, db};
    });
  }
  return y;
}

}  // namespace lowbit
