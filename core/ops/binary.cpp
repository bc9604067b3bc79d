// Binary ops: argument checks, output geometry and device dispatch for xnor_matmul, xnor_conv2d
// (with or without an epilogue), xnor_epilogue and binary_max_pool2d (CPU kernels in
// kernels/cpu/xnor_gemm, xnor_conv, xnor_epilogue and binary_pool; CUDA GEMM/conv with fused epilogues in
// kernels/cuda/xnor_gemm and xnor_conv).
#include "core/ops/binary.h"

#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/bit_math.h"
#include "kernels/norm_math.h"
#include "kernels/cpu/binary_pool.h"
#include "kernels/cpu/bn_sign.h"
#include "kernels/cpu/xnor_conv.h"
#include "kernels/cpu/xnor_epilogue.h"
#include "kernels/cpu/xnor_gemm.h"
#include "kernels/window.h"

#if LOWBIT_WITH_CUDA
#include "kernels/cuda/binary_pool.h"
#include "kernels/cuda/xnor_conv.h"
#include "kernels/cuda/xnor_epilogue.h"
#include "kernels/cuda/xnor_gemm.h"
#endif

namespace lowbit {

namespace {

cpu::XnorGemmConfig cpu_config(const XnorOptions& o) {
  cpu::XnorPath path = o.kernel == XnorKernel::scalar ? cpu::XnorPath::scalar
                       : o.kernel == XnorKernel::avx2   ? cpu::XnorPath::avx2
                       : o.kernel == XnorKernel::avx512 ? cpu::XnorPath::avx512
                                                      : cpu::XnorPath::automatic;
  return {path, o.threads};
}

bool is_cuda_kernel(XnorKernel k) {
  return k == XnorKernel::cuda_popc || k == XnorKernel::cuda_mma || k == XnorKernel::cuda_wgmma;
}

// Refuses a kernel the device cannot run (a CPU path on CUDA tensors or the reverse).
void check_kernel_device(const XnorOptions& o, const Device& device, const char* op) {
  if (o.kernel == XnorKernel::automatic) return;
  LOWBIT_CHECK(is_cuda_kernel(o.kernel) == device.is_cuda(), op, ": kernel ", static_cast<int>(o.kernel),
               is_cuda_kernel(o.kernel) ? " is a CUDA path but the tensors are on the CPU"
                                        : " is a CPU path but the tensors are on a CUDA device");
}

#if LOWBIT_WITH_CUDA
cuda::XnorCudaPath cuda_path(const XnorOptions& o) {
  return o.kernel == XnorKernel::cuda_popc    ? cuda::XnorCudaPath::popc
         : o.kernel == XnorKernel::cuda_mma   ? cuda::XnorCudaPath::mma
         : o.kernel == XnorKernel::cuda_wgmma ? cuda::XnorCudaPath::wgmma
                                              : cuda::XnorCudaPath::automatic;
}

// The CUDA kernels' fused epilogue writing `out` ([rows, cols] i32, f32, or b1 rows).
cuda::XnorEpilogueArgs cuda_epilogue(const XnorEpilogue& ep, const Tensor& out, int64_t cols) {
  cuda::XnorEpilogueArgs a;
  a.out = out.raw_data();
  a.ldo = ep.kind == XnorEpilogue::Kind::threshold ? packed_words(cols) : cols;
  if (ep.kind == XnorEpilogue::Kind::affine) {
    a.kind = cuda::XnorEpilogueArgs::Kind::affine;
    a.scale = ep.scale.data<float>();
    a.bias = ep.bias.defined() ? ep.bias.data<float>() : nullptr;
  } else if (ep.kind == XnorEpilogue::Kind::threshold) {
    a.kind = cuda::XnorEpilogueArgs::Kind::threshold;
    a.threshold = ep.threshold.data<int32_t>();
    a.mode = ep.mode.data<uint8_t>();
  }
  return a;
}
#endif

void check_channel_vector(const Tensor& t, DType dtype, int64_t channels, const Tensor& like, const char* op,
                          const char* arg) {
  LOWBIT_CHECK(t.defined(), op, ": epilogue ", arg, " is missing");
  check_dtype(t, dtype, op, arg);
  LOWBIT_CHECK(t.dim() == 1 && t.size(0) == channels, op, ": epilogue ", arg, " must be [", channels,
               "] (one per output channel), got ", shape_str(t.shape()));
  LOWBIT_CHECK(t.is_contiguous(), op, ": epilogue ", arg, " must be contiguous");
  check_same_device(t, like, op);
}

// Checks `ep` for `channels` output channels on like's device; returns the output dtype.
DType check_epilogue(const XnorEpilogue& ep, int64_t channels, const Tensor& like, const char* op) {
  switch (ep.kind) {
    case XnorEpilogue::Kind::none: return DType::i32;
    case XnorEpilogue::Kind::affine:
      check_channel_vector(ep.scale, DType::f32, channels, like, op, "scale");
      if (ep.bias.defined()) check_channel_vector(ep.bias, DType::f32, channels, like, op, "bias");
      return DType::f32;
    case XnorEpilogue::Kind::threshold:
      check_channel_vector(ep.threshold, DType::i32, channels, like, op, "threshold");
      check_channel_vector(ep.mode, DType::u8, channels, like, op, "mode");
      if (ep.mode.device().is_cpu()) {
        const uint8_t* m = ep.mode.data<uint8_t>();
        for (int64_t c = 0; c < channels; ++c)
          LOWBIT_CHECK(m[c] < kThresholdModeCount, op, ": epilogue mode[", c, "] = ", int{m[c]},
                       " is not a threshold mode (0 ge, 1 le, 2 always +1, 3 always -1)");
      }
      return DType::b1;
  }
  LOWBIT_FAIL(op, ": unknown epilogue kind ", static_cast<int>(ep.kind));
}

// out (f32 or b1, rows x cols) = ep applied to the CPU sums s (rows x cols, contiguous).
void epilogue_cpu(const int32_t* s, int64_t rows, int64_t cols, const XnorEpilogue& ep, Tensor& out) {
  if (ep.kind == XnorEpilogue::Kind::affine)
    cpu::scale_to_f32(s, cols, rows, cols, ep.scale.data<float>(), ep.bias.defined() ? ep.bias.data<float>() : nullptr,
                      out.data<float>(), cols);
  else
    cpu::threshold_pack(s, cols, rows, cols, ep.threshold.data<int32_t>(), ep.mode.data<uint8_t>(),
                        out.data<uint32_t>());
}

// The sums tensor of an op with an epilogue: `out` itself for none, else a temporary.
Tensor sums_for(const Tensor& out, const XnorEpilogue& ep) {
  return ep.kind == XnorEpilogue::Kind::none ? out : Tensor::empty(out.shape(), DType::i32, out.device());
}

}  // namespace

Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorOptions& options) {
  return xnor_matmul(a, b, XnorEpilogue{}, options);
}

Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorEpilogue& ep, const XnorOptions& options) {
  check_dtype(a, DType::b1, "xnor_matmul", "a");
  check_dtype(b, DType::b1, "xnor_matmul", "b");
  check_rank(a, 2, "xnor_matmul", "a [M,K]");
  check_rank(b, 2, "xnor_matmul", "b [N,K]");
  check_same_device(a, b, "xnor_matmul");
  LOWBIT_CHECK(a.size(1) == b.size(1), "xnor_matmul: a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
               " must have the same K (b is [N,K], packed along K)");
  int64_t M = a.size(0), N = b.size(0), K = a.size(1), kw = packed_words(K);
  DType out_dtype = check_epilogue(ep, N, a, "xnor_matmul");
  check_kernel_device(options, a.device(), "xnor_matmul");
  Tensor out = Tensor::empty({M, N}, out_dtype, a.device());
  switch (a.device().type) {
    case DeviceType::CPU: {
      Tensor sums = sums_for(out, ep);
      cpu::xnor_gemm(M, N, kw, K, a.data<uint32_t>(), kw, b.data<uint32_t>(), kw, sums.data<int32_t>(), N,
                     cpu_config(options));
      if (ep.kind != XnorEpilogue::Kind::none) epilogue_cpu(sums.data<int32_t>(), M, N, ep, out);
      break;
    }
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::xnor_gemm(M, N, kw, K, a.data<uint32_t>(), kw, b.data<uint32_t>(), kw, cuda_epilogue(ep, out, N),
                      cuda_path(options));
#else
      cuda_missing("xnor_matmul");
#endif
      break;
  }
  return out;
}

Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad, const XnorOptions& options) {
  return xnor_conv2d(x, weight, stride, pad, XnorEpilogue{}, options);
}

Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad, const XnorEpilogue& ep,
                   const XnorOptions& options) {
  check_dtype(x, DType::b1, "xnor_conv2d", "x");
  check_dtype(weight, DType::b1, "xnor_conv2d", "weight");
  check_rank(x, 4, "xnor_conv2d", "x [N,H,W,C]");
  check_rank(weight, 4, "xnor_conv2d", "weight [O,KH,KW,C]");
  check_same_device(x, weight, "xnor_conv2d");
  const Shape &sx = x.shape(), &sw = weight.shape();
  LOWBIT_CHECK(stride >= 1 && pad >= 0, "xnor_conv2d: stride must be >= 1 and padding >= 0, got stride ", stride,
               " and padding ", pad);
  LOWBIT_CHECK(sw[3] == sx[3], "xnor_conv2d: weight ", shape_str(sw), " has ", sw[3], " input channels, x ",
               shape_str(sx), " has ", sx[3]);
  LOWBIT_CHECK(sw[1] >= 1 && sw[2] >= 1, "xnor_conv2d: empty kernel in weight ", shape_str(sw));
  LOWBIT_CHECK(sx[1] + 2 * pad >= sw[1] && sx[2] + 2 * pad >= sw[2], "xnor_conv2d: kernel ", sw[1], "x", sw[2],
               " does not fit x ", shape_str(sx), " with padding ", pad, ": the output would be empty");
  cpu::BinaryConvGeom g{sx[0], sx[1], sx[2], sx[3], sw[0], sw[1], sw[2],
                        window_out_size(sx[1], sw[1], stride, pad), window_out_size(sx[2], sw[2], stride, pad),
                        stride, stride, pad, pad};
  DType out_dtype = check_epilogue(ep, g.O, x, "xnor_conv2d");
  check_kernel_device(options, x.device(), "xnor_conv2d");
  Tensor out = Tensor::empty({g.N, g.OH, g.OW, g.O}, out_dtype, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: {
      Tensor sums = sums_for(out, ep);
      cpu::xnor_conv2d(x.data<uint32_t>(), weight.data<uint32_t>(), g, sums.data<int32_t>(), cpu_config(options));
      if (ep.kind != XnorEpilogue::Kind::none) epilogue_cpu(sums.data<int32_t>(), g.N * g.OH * g.OW, g.O, ep, out);
      break;
    }
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::xnor_conv2d(x.data<uint32_t>(), weight.data<uint32_t>(), g, cuda_epilogue(ep, out, g.O),
                        cuda_path(options));
#else
      cuda_missing("xnor_conv2d");
#endif
      break;
  }
  return out;
}

Tensor xnor_epilogue(const Tensor& sums_in, const XnorEpilogue& ep) {
  check_dtype(sums_in, DType::i32, "xnor_epilogue", "sums");
  LOWBIT_CHECK(sums_in.dim() >= 1, "xnor_epilogue: sums must have a channel axis, got a 0-d tensor");
  Tensor sums = sums_in.contiguous();
  int64_t cols = sums.shape().back(), rows = cols ? sums.numel() / cols : 0;
  DType out_dtype = check_epilogue(ep, cols, sums, "xnor_epilogue");
  if (ep.kind == XnorEpilogue::Kind::none) return sums.clone();
  Tensor out = Tensor::empty(sums.shape(), out_dtype, sums.device());
  switch (sums.device().type) {
    case DeviceType::CPU: epilogue_cpu(sums.data<int32_t>(), rows, cols, ep, out); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::xnor_epilogue(sums.data<int32_t>(), rows, cols, cuda_epilogue(ep, out, cols));
#else
      cuda_missing("xnor_epilogue");
#endif
      break;
  }
  return out;
}

Tensor binary_max_pool2d(const Tensor& x, const Pool2dParams& p) {
  const char* op = "binary_max_pool2d";
  check_dtype(x, DType::b1, op, "x");
  check_rank(x, 4, op, "x [N,H,W,C]");
  LOWBIT_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1, op,
               ": kernel and stride must be at least 1, got kernel ", p.kernel_h, "x", p.kernel_w, " stride ",
               p.stride_h, "x", p.stride_w);
  LOWBIT_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h < p.kernel_h && p.pad_w < p.kernel_w, op, ": padding ",
               p.pad_h, "x", p.pad_w, " must be non-negative and smaller than the kernel ", p.kernel_h, "x",
               p.kernel_w);
  const Shape& s = x.shape();
  LOWBIT_CHECK(s[1] + 2 * p.pad_h >= p.kernel_h && s[2] + 2 * p.pad_w >= p.kernel_w, op, ": kernel ", p.kernel_h,
               "x", p.kernel_w, " is larger than the padded input (x ", shape_str(s), ")");
  PoolGeometry g{s[0],       s[1],       s[2],       s[3],       window_out_size(s[1], p.kernel_h, p.stride_h, p.pad_h),
                 window_out_size(s[2], p.kernel_w, p.stride_w, p.pad_w), p.kernel_h, p.kernel_w, p.stride_h,
                 p.stride_w, p.pad_h,    p.pad_w};
  Tensor out = Tensor::empty({g.n, g.oh, g.ow, g.c}, DType::b1, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::binary_max_pool2d(x.data<uint32_t>(), g, out.data<uint32_t>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::binary_max_pool2d(x.data<uint32_t>(), g, out.data<uint32_t>());
      break;
#else
      cuda_missing("binary_max_pool2d");
#endif
  }
  return out;
}

Tensor batch_norm_sign(const Tensor& x_in, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                       const Tensor& var, float eps) {
  const char* op = "batch_norm_sign";
  check_dtype(x_in, DType::f32, op, "x");
  LOWBIT_CHECK(x_in.dim() >= 1, op, ": x needs a channel axis");
  LOWBIT_CHECK(eps >= 0.f, op, ": eps must be non-negative, got ", eps);
  Tensor x = x_in.contiguous();
  const int64_t channels = x.shape().back(), rows = channels ? x.numel() / channels : 0;
  check_channel_vector(mean, DType::f32, channels, x, op, "mean");
  check_channel_vector(var, DType::f32, channels, x, op, "var");
  if (gamma.defined()) check_channel_vector(gamma, DType::f32, channels, x, op, "gamma");
  if (beta.defined()) check_channel_vector(beta, DType::f32, channels, x, op, "beta");
  Tensor out = Tensor::empty(x.shape(), DType::b1, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: {
      // The per-channel coefficients exactly as the batch-norm kernel computes them.
      std::vector<float> scale(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels));
      const float *m = mean.data<float>(), *v = var.data<float>();
      const float* g = gamma.defined() ? gamma.data<float>() : nullptr;
      const float* b = beta.defined() ? beta.data<float>() : nullptr;
      for (int64_t c = 0; c < channels; ++c)
        bn_scale_shift(m[c], bn_inv_std(v[c], eps), g ? g + c : nullptr, b ? b + c : nullptr, scale[c], shift[c]);
      cpu::batch_norm_sign_pack(x.data<float>(), rows, channels, scale.data(), shift.data(), out.data<uint32_t>());
      break;
    }
    case DeviceType::CUDA: cuda_missing(op);
  }
  return out;
}

namespace {

// The f32 values of a per-channel fold argument (undefined: `fallback` for every channel).
std::vector<float> fold_values(const Tensor& t, int64_t channels, float fallback, const char* op, const char* arg) {
  if (!t.defined()) return std::vector<float>(static_cast<size_t>(channels), fallback);
  check_dtype(t, DType::f32, op, arg);
  LOWBIT_CHECK(t.dim() == 1 && t.size(0) == channels && t.device().is_cpu(), op, ": ", arg, " must be a CPU [",
               channels, "] tensor, got ", shape_str(t.shape()), " on ", t.device().str());
  return t.to_vector();
}

struct FoldArgs {
  int64_t channels;
  std::vector<float> alpha, gamma, beta, mean, var;
};

FoldArgs fold_args(const Tensor& alpha, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                   const Tensor& var, const char* op) {
  LOWBIT_CHECK(mean.defined() && mean.dim() == 1, op, ": mean must be [O]");
  const int64_t c = mean.size(0);
  return {c, fold_values(alpha, c, 1.f, op, "alpha"), fold_values(gamma, c, 1.f, op, "gamma"),
          fold_values(beta, c, 0.f, op, "beta"), fold_values(mean, c, 0.f, op, "mean"),
          fold_values(var, c, 1.f, op, "var")};
}

}  // namespace

XnorEpilogue fold_bn_threshold_epilogue(const Tensor& alpha, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& mean, const Tensor& var, float eps) {
  const FoldArgs f = fold_args(alpha, gamma, beta, mean, var, "fold_bn_threshold_epilogue");
  std::vector<int32_t> t(static_cast<size_t>(f.channels));
  std::vector<uint8_t> mode(static_cast<size_t>(f.channels));
  for (int64_t c = 0; c < f.channels; ++c) {
    cpu::ChannelThreshold th = cpu::fold_bn_threshold(f.alpha[c], f.gamma[c], f.beta[c], f.mean[c], f.var[c], eps);
    t[c] = th.t;
    mode[c] = static_cast<uint8_t>(th.mode);
  }
  XnorEpilogue ep;
  ep.kind = XnorEpilogue::Kind::threshold;
  ep.threshold = Tensor::from_vector(t, {f.channels});
  ep.mode = Tensor::from_vector(mode, {f.channels});
  return ep;
}

XnorEpilogue fold_bn_affine_epilogue(const Tensor& alpha, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                     const Tensor& var, float eps) {
  const FoldArgs f = fold_args(alpha, gamma, beta, mean, var, "fold_bn_affine_epilogue");
  std::vector<float> a(static_cast<size_t>(f.channels)), b(static_cast<size_t>(f.channels));
  for (int64_t c = 0; c < f.channels; ++c)
    cpu::fold_bn_affine(f.alpha[c], f.gamma[c], f.beta[c], f.mean[c], f.var[c], eps, a[c], b[c]);
  XnorEpilogue ep;
  ep.kind = XnorEpilogue::Kind::affine;
  ep.scale = Tensor::from_vector(a, {f.channels});
  ep.bias = Tensor::from_vector(b, {f.channels});
  return ep;
}

}  // namespace lowbit
