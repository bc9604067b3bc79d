// Binary ops: argument checks, output geometry and device dispatch for xnor_matmul and
// xnor_conv2d (CPU kernels in kernels/cpu/xnor_gemm and xnor_conv; CUDA later).
#include "core/ops/binary.h"

#include "core/dispatch.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/xnor_conv.h"
#include "kernels/cpu/xnor_gemm.h"
#include "kernels/window.h"

namespace lowbit {

namespace {

cpu::XnorGemmConfig cpu_config(const XnorOptions& o) {
  cpu::XnorPath path = o.kernel == XnorKernel::scalar ? cpu::XnorPath::scalar
                       : o.kernel == XnorKernel::avx2   ? cpu::XnorPath::avx2
                       : o.kernel == XnorKernel::avx512 ? cpu::XnorPath::avx512
                                                      : cpu::XnorPath::automatic;
  return {path, o.threads};
}

}  // namespace

Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorOptions& options) {
  check_dtype(a, DType::b1, "xnor_matmul", "a");
  check_dtype(b, DType::b1, "xnor_matmul", "b");
  check_rank(a, 2, "xnor_matmul", "a [M,K]");
  check_rank(b, 2, "xnor_matmul", "b [N,K]");
  check_same_device(a, b, "xnor_matmul");
  LOWBIT_CHECK(a.size(1) == b.size(1), "xnor_matmul: a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
               " must have the same K (b is [N,K], packed along K)");
  int64_t M = a.size(0), N = b.size(0), K = a.size(1), kw = packed_words(K);
  Tensor out = Tensor::empty({M, N}, DType::i32, a.device());
  switch (a.device().type) {
    case DeviceType::CPU:
      cpu::xnor_gemm(M, N, kw, K, a.data<uint32_t>(), kw, b.data<uint32_t>(), kw, out.data<int32_t>(), N,
                     cpu_config(options));
      break;
    case DeviceType::CUDA: cuda_missing("xnor_matmul");
  }
  return out;
}

Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad, const XnorOptions& options) {
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
  Tensor out = Tensor::empty({g.N, g.OH, g.OW, g.O}, DType::i32, x.device());
  switch (x.device().type) {
    case DeviceType::CPU:
      cpu::xnor_conv2d(x.data<uint32_t>(), weight.data<uint32_t>(), g, out.data<int32_t>(), cpu_config(options));
      break;
    case DeviceType::CUDA: cuda_missing("xnor_conv2d");
  }
  return out;
}

}  // namespace lowbit
