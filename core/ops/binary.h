// Binary (XNOR/popcount) ops on packed b1 tensors, inference only (no autograd): the exact
// integer Σ sign(a)·sign(b) of the float ±1 model. Pack with x.to(DType::b1) (x < 0 -> -1,
// otherwise +1; packed along the innermost axis).
// An XnorEpilogue turns the i32 sums into what the next layer reads, per output channel c (the
// innermost axis):
//   none:      the i32 sums;
//   affine:    f32 y = scale[c]·s + bias[c] (XNOR-Net's α, or batch norm folded by
//              kernels/cpu/xnor_epilogue.h fold_bn_affine; bias undefined = 0);
//   threshold: b1, +1 or -1 by threshold[c] (i32) and mode[c] (u8 ThresholdMode,
//              kernels/xnor_epilogue_math.h; batch norm + sign folded by fold_bn_threshold).
#pragma once

#include <cstdint>

#include "core/export.h"
#include "core/ops/pool.h"
#include "core/tensor.h"

namespace lowbit {

// The kernel of xnor_matmul / xnor_conv2d: automatic (the fastest the tensors' device runs), a CPU
// popcount path (scalar, avx2, avx512; CPU tensors) or a CUDA path (CUDA tensors): cuda_popc (CUDA
// cores), cuda_mma (mma.sync binary tensor cores, sm_80+), cuda_wgmma (wgmma, sm_90a builds on
// sm_90). A path the tensors' device cannot run is refused.
enum class XnorKernel : uint8_t { automatic, scalar, avx2, avx512, cuda_popc, cuda_mma, cuda_wgmma };

struct XnorOptions {
  XnorKernel kernel = XnorKernel::automatic;  // automatic: the fastest this CPU runs
  int threads = 0;                            // 0: the default (every hardware thread)
};

struct XnorEpilogue {
  enum class Kind : uint8_t { none, affine, threshold } kind = Kind::none;
  Tensor scale;  // affine: f32 [O]
  Tensor bias;   // affine: f32 [O], or undefined (0) -> f32 output
  Tensor threshold;  // threshold: i32 [O] t
  Tensor mode;       // threshold: u8 [O] (ThresholdMode values) -> b1 output
};

// a [M,K] b1, b [N,K] b1 -> [M,N] i32 with out[m,n] = Σ_k sign(a[m,k])·sign(b[n,k]).
LOWBIT_API Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorOptions& options = {});
// The same sums through the epilogue `ep` (O = N): [M,N] i32, f32 or b1.
LOWBIT_API Tensor xnor_matmul(const Tensor& a, const Tensor& b, const XnorEpilogue& ep,
                              const XnorOptions& options = {});

// x [N,H,W,C] b1, weight [O,KH,KW,C] b1 -> [N,OH,OW,O] i32: the zero-padded convolution of the
// ±1 values (taps in the padding contribute 0), same stride and padding on both axes.
LOWBIT_API Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad,
                              const XnorOptions& options = {});
// The same sums through the epilogue `ep`: [N,OH,OW,O] i32, f32 or b1.
LOWBIT_API Tensor xnor_conv2d(const Tensor& x, const Tensor& weight, int64_t stride, int64_t pad,
                              const XnorEpilogue& ep, const XnorOptions& options = {});

// An epilogue on its own: i32 sums [..., O] -> i32 (none: a copy), f32 or b1 of the same shape.
// (The deploy runtime uses it where a max-pool sits between a binary layer and its batch norm.)
LOWBIT_API Tensor xnor_epilogue(const Tensor& sums, const XnorEpilogue& ep);

// Max-pool of a packed NHWC b1 image [N,H,W,C] -> [N,OH,OW,C] b1: +1 unless the whole window is
// -1 (the AND of the packed words); padded cells never take part, as in max_pool2d (whose
// geometry rules and checks it shares).
LOWBIT_API Tensor binary_max_pool2d(const Tensor& x, const Pool2dParams& params);

// sign(batch_norm(x)) in evaluation, packed: x f32 [..., C] -> b1 of the same shape, bit for bit
// batch_norm(x, gamma, beta, mean, var, false, ·, eps).to(DType::b1) (gamma/beta may be undefined)
// in one pass. CPU only for now (CUDA: batch_norm then .to(DType::b1)).
LOWBIT_API Tensor batch_norm_sign(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                  const Tensor& var, float eps);

// Batch norm after a binary layer, folded into its epilogue (on the host; f32 [O] CPU tensors,
// gamma/beta may be undefined = 1/0): per channel y = γ·(α·s − μ)/sqrt(var + eps) + β of the
// layer's sum s (α: the layer's per-channel scale, 1 for plain sign weights). The threshold
// epilogue gives sign(y) (kernels/cpu/xnor_epilogue.h fold_bn_threshold: ties at y = 0 give +1),
// the affine one y in f32 (fold_bn_affine). Refuses NaN parameters and var + eps <= 0.
LOWBIT_API XnorEpilogue fold_bn_threshold_epilogue(const Tensor& alpha, const Tensor& gamma, const Tensor& beta,
                                                   const Tensor& mean, const Tensor& var, float eps);
LOWBIT_API XnorEpilogue fold_bn_affine_epilogue(const Tensor& alpha, const Tensor& gamma, const Tensor& beta,
                                                const Tensor& mean, const Tensor& var, float eps);

}  // namespace lowbit
