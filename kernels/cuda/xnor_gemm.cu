// CUDA binary GEMM (kernels/cuda/xnor_gemm.h): path choice, the row-popcount pre-pass of the AND
// form, and the GEMM launches over packed rows (kernels in xnor_popc.cuh, xnor_mma.cuh,
// xnor_wgmma.cuh; loaders, finishers and the fused store phase in xnor_tile.cuh).
// Napkin math of the pre-pass: it reads A and B once (M·kw + N·kw words) and writes M + N ints —
// at M = N = K = 8192 bits 16 MB, ~6 µs of HBM time next to ~75–110 µs of tensor-core work.
#include "kernels/cuda/xnor_gemm.h"

#include <cuda_runtime.h>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/xnor_launch.cuh"

namespace lowbit::cuda {

namespace {

using xnor::AndFinish;
using xnor::GemmOperand;
using xnor::XorFinish;

struct DeviceCaps {
  int major = 0;
  bool wgmma = false;  // sm_90 device and sm_90a code in this build
};

__global__ void wgmma_probe_kernel(int* out) { *out = LOWBIT_XNOR_WGMMA; }

// Queried once per device (the probe runs one tiny kernel and copies one int back).
const DeviceCaps& device_caps() {
  static DeviceCaps caps[64];
  static bool known[64] = {};
  const int dev = current_device();
  const int slot = dev >= 0 && dev < 64 ? dev : 0;
  if (!known[slot]) {
    DeviceCaps c;
    LOWBIT_CUDA_CHECK(cudaDeviceGetAttribute(&c.major, cudaDevAttrComputeCapabilityMajor, dev));
    if (c.major == 9) {
      DeviceBuffer flag(sizeof(int));
      wgmma_probe_kernel<<<1, 1, 0, current_stream()>>>(flag.as<int>());
      LOWBIT_CUDA_CHECK(cudaGetLastError());
      int v = 0;
      LOWBIT_CUDA_CHECK(cudaMemcpyAsync(&v, flag.data(), sizeof(int), cudaMemcpyDeviceToHost, current_stream()));
      LOWBIT_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
      c.wgmma = v != 0;
    }
    caps[slot] = c;
    known[slot] = true;
  }
  return caps[slot];
}

// One thread per row (short rows) or one warp per row.
__global__ void row_popc_thread_kernel(const uint32_t* x, int64_t ld, int64_t rows, int64_t kw, int32_t* out) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    int32_t s = 0;
    for (int64_t w = 0; w < kw; ++w) s += __popc(x[r * ld + w]);
    out[r] = s;
  }
}

__global__ void row_popc_warp_kernel(const uint32_t* x, int64_t ld, int64_t rows, int64_t kw, int32_t* out) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (int64_t{gridDim.x} * blockDim.x) >> 5;
  for (int64_t r = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) >> 5; r < rows; r += warps) {
    int32_t s = 0;
    for (int64_t w = lane; w < kw; w += 32) s += __popc(x[r * ld + w]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) out[r] = s;
  }
}

// Words per cp.async both operands allow (row strides and base alignment).
int granule(const uint32_t* a, int64_t lda, const uint32_t* b, int64_t ldb) {
  auto fits = [&](int g) {
    const uintptr_t mask = static_cast<uintptr_t>(g) * 4 - 1;
    return lda % g == 0 && ldb % g == 0 && (reinterpret_cast<uintptr_t>(a) & mask) == 0 &&
           (reinterpret_cast<uintptr_t>(b) & mask) == 0;
  };
  return fits(4) ? 4 : fits(2) ? 2 : 1;
}

template <int G>
void gemm_with(XnorCudaPath path, int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda,
               const uint32_t* B, int64_t ldb, const XnorEpilogueArgs& ep) {
  const GemmOperand<G> la{A, lda, M, kw}, lb{B, ldb, N, kw};
  if (path == XnorCudaPath::popc) return xnor::run_popc(la, lb, XorFinish{k_bits}, ep, M, N, kw);
  DeviceBuffer pops(static_cast<size_t>(M + N) * sizeof(int32_t));
  int32_t* pop_a = pops.as<int32_t>();
  xnor_row_popcounts(A, lda, M, kw, pop_a);
  xnor_row_popcounts(B, ldb, N, kw, pop_a + M);
  const AndFinish fin{k_bits, M, pop_a, pop_a + M};
  if (path == XnorCudaPath::wgmma) return xnor::run_wgmma(la, lb, fin, ep, M, N, kw);
  xnor::run_mma(la, lb, fin, ep, M, N, kw);
}

}  // namespace

const char* xnor_cuda_path_name(XnorCudaPath path) {
  switch (path) {
    case XnorCudaPath::automatic: return "automatic";
    case XnorCudaPath::popc: return "popc";
    case XnorCudaPath::mma: return "mma";
    case XnorCudaPath::wgmma: return "wgmma";
  }
  return "?";
}

bool xnor_mma_supported() { return device_caps().major >= 8; }
bool xnor_wgmma_supported() { return device_caps().wgmma; }

XnorCudaPath resolve_xnor_cuda_path(XnorCudaPath path, int64_t M, int64_t N, int64_t k_bits) {
  switch (path) {
    case XnorCudaPath::popc: return path;
    case XnorCudaPath::mma:
      LOWBIT_CHECK(xnor_mma_supported(), "xnor GEMM: the mma path needs a GPU of compute capability 8.0 or newer");
      return path;
    case XnorCudaPath::wgmma:
      LOWBIT_CHECK(xnor_wgmma_supported(),
                   "xnor GEMM: the wgmma path needs an sm_90 GPU and a build with sm_90a code (CMAKE_CUDA_ARCHITECTURES=90a)");
      return path;
    case XnorCudaPath::automatic: break;
  }
  // Tiny problems are launch-bound: the popc path needs no pre-pass.
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>((k_bits + 31) / 32);
  if (work < double{1 << 22} || !xnor_mma_supported()) return XnorCudaPath::popc;
  // wgmma's 128×256 tiles pay off once they cover the SMs and N fills them.
  if (xnor_wgmma_supported() && N >= 256 && xnor::tile_count(M, N, 128, 256) >= sm_count())
    return XnorCudaPath::wgmma;
  return XnorCudaPath::mma;
}

void xnor_row_popcounts(const uint32_t* x, int64_t ld, int64_t rows, int64_t kw, int32_t* out) {
  if (rows <= 0) return;
  if (kw <= 8) {
    row_popc_thread_kernel<<<stride_grid(rows, 256), 256, 0, current_stream()>>>(x, ld, rows, kw, out);
  } else {
    row_popc_warp_kernel<<<stride_grid(rows * 32, 256), 256, 0, current_stream()>>>(x, ld, rows, kw, out);
  }
  LOWBIT_CUDA_CHECK(cudaGetLastError());
}

void xnor_gemm(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda, const uint32_t* B,
               int64_t ldb, const XnorEpilogueArgs& ep, XnorCudaPath path) {
  LOWBIT_CHECK(M >= 0 && N >= 0 && kw >= 0 && k_bits >= 0 && k_bits <= kw * 32 && lda >= kw && ldb >= kw,
               "xnor_gemm (CUDA): bad geometry M ", M, " N ", N, " kw ", kw, " k_bits ", k_bits, " lda ", lda,
               " ldb ", ldb);
  LOWBIT_CHECK(k_bits < (int64_t{1} << 30), "xnor_gemm (CUDA): K = ", k_bits, " bits overflows the int32 sums");
  if (M == 0 || N == 0) return;
  path = resolve_xnor_cuda_path(path, M, N, k_bits);
  switch (granule(A, lda, B, ldb)) {
    case 4: return gemm_with<4>(path, M, N, kw, k_bits, A, lda, B, ldb, ep);
    case 2: return gemm_with<2>(path, M, N, kw, k_bits, A, lda, B, ldb, ep);
    default: return gemm_with<1>(path, M, N, kw, k_bits, A, lda, B, ldb, ep);
  }
}

}  // namespace lowbit::cuda
