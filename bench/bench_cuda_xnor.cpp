// CUDA binary (XNOR/popcount) GEMM and convolution benchmarks, compiled only in CUDA builds (the
// whole file is under #if LOWBIT_WITH_CUDA).
//
// Measured:
//   CudaXnorGemm/<path>/<epilogue>/n : C[n,n] = A[n, n bits] B[n, n bits]^T through
//     cuda::xnor_gemm on pre-packed operands (path popc, mma, wgmma or auto; epilogue i32 sums or
//     threshold + sign + pack into b1), vs cuBLAS bf16 GEMM (cublasGemmEx, f32 accumulation) of the
//     same logical shape [n,n]×[n,n]^T, timed in the same run.
//   CudaXnorConv/<path>/<shape> : cuda::xnor_conv2d, 3×3 stride 1 pad 1 at ResNet-18 layer shapes
//     (batch 64) with the fused threshold + sign + pack epilogue, vs cuDNN fp16 NHWC convolution of
//     the same shape (tensor-op math, f32 accumulation, the fastest algorithm cudnnFind reports).
// Validation first (SkipWithError on a mismatch): the GEMM's first and last 64 rows, the whole
//   convolution output, each against the CPU binary kernels (kernels/cpu/xnor_gemm, the xnor_conv2d
//   op on the CPU; exact equality of the i32 sums or of the packed words).
// Counters: Top/s (2·M·N·K binary ops, or 2·N·OH·OW·O·KH·KW·C; 1 Pop/s = 1000 Top/s) and
//   vs_<peer> = peer time / own time, both the best of 3 batches of 10 calls after a warm-up.
//   Without a GPU every benchmark stops at once with "no CUDA device present".
// Run: build/bench/lowbit-bench --benchmark_filter=CudaXnor
#if LOWBIT_WITH_CUDA

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_cuda_util.h"
#include "bench/bench_util.h"
#include "core/ops/binary.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/xnor_gemm.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/xnor_conv.h"
#include "kernels/cuda/xnor_gemm.h"
#include "kernels/window.h"

namespace {

using lowbit::Device;
using lowbit::DType;
using lowbit::Shape;
using lowbit::Tensor;
using lowbit::cuda::XnorCudaPath;
using lowbit::cuda::XnorEpilogueArgs;
using namespace lowbit::bench;

template <typename F>
void run_timed(benchmark::State& state, double ops, const char* peer, double peer_seconds, F&& f) {
  for (auto _ : state) state.SetIterationTime(time_ms(f, 1) * 1e-3);
  const double own = best_seconds(f);
  state.counters["Top/s"] = ops / own * 1e-12;
  state.counters[std::string("vs_") + peer] = peer_seconds / own;
}

// Random signs as f32 ±1 on the CPU (seeded).
Tensor random_pm1(const Shape& shape, uint64_t seed) {
  Tensor u = random_tensor(shape, seed);
  float* p = u.data<float>();
  for (int64_t i = 0; i < u.numel(); ++i) p[i] = p[i] < 0.5f ? -1.f : 1.f;
  return u;
}

bool path_available(XnorCudaPath path) {
  if (path == XnorCudaPath::mma) return lowbit::cuda::xnor_mma_supported();
  if (path == XnorCudaPath::wgmma) return lowbit::cuda::xnor_wgmma_supported();
  return true;
}

// Per-channel thresholds t[c] in [-64, 64] with modes ge/le (device tensors).
struct Thresholds {
  Tensor t, mode;
  explicit Thresholds(int64_t channels) {
    std::vector<int32_t> t_host(static_cast<size_t>(channels));
    std::vector<uint8_t> m_host(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      t_host[c] = static_cast<int32_t>((c * 37) % 129) - 64;
      m_host[c] = static_cast<uint8_t>(c % 2);
    }
    t = Tensor::from_vector(t_host, {channels}).to(Device::cuda());
    mode = Tensor::from_vector(m_host, {channels}).to(Device::cuda());
  }
  lowbit::XnorEpilogue op_epilogue() const {
    lowbit::XnorEpilogue ep;
    ep.kind = lowbit::XnorEpilogue::Kind::threshold;
    ep.threshold = t;
    ep.mode = mode;
    return ep;
  }
};

// ---------------------------------------------------------------- GEMM

struct GemmCase {
  Tensor a, b;            // packed b1 [n, n] on the GPU
  Tensor a_cpu, b_cpu;    // ... and on the CPU
  Tensor a16, b16;        // the same ±1 values in bf16 on the GPU (cuBLAS peer)
  double cublas_seconds;  // bf16 GEMM [n,n]×[n,n]^T
};

const GemmCase& gemm_case(int64_t n) {
  static auto& cache = *new std::map<int64_t, GemmCase>();  // leaked: no CUDA frees at exit
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Tensor fa = random_pm1({n, n}, 1), fb = random_pm1({n, n}, 2);
  GemmCase c;
  c.a_cpu = fa.to(DType::b1);
  c.b_cpu = fb.to(DType::b1);
  c.a = c.a_cpu.to(Device::cuda());
  c.b = c.b_cpu.to(Device::cuda());
  c.a16 = fa.to(Device::cuda()).to(DType::bf16);
  c.b16 = fb.to(Device::cuda()).to(DType::bf16);
  Tensor out16 = Tensor::empty({n, n}, DType::bf16, Device::cuda());
  c.cublas_seconds = best_seconds([&] {
    lowbit::cuda::gemm_16(lowbit::cuda::Half16::bf16, false, true, n, n, n, 1.f, c.a16.raw_data(), n,
                          c.b16.raw_data(), n, 0.f, out16.raw_data(), n);
  });
  return cache.emplace(n, std::move(c)).first->second;
}

// Empty when rows [r0, r0 + rows) of the GPU's i32 result equal the CPU kernel's.
std::string check_rows(const GemmCase& c, const Tensor& got, int64_t n, int64_t r0, int64_t rows) {
  const int64_t kw = lowbit::packed_words(n);
  std::vector<int32_t> want(static_cast<size_t>(rows * n));
  lowbit::cpu::xnor_gemm(rows, n, kw, n, c.a_cpu.data<uint32_t>() + r0 * kw, kw, c.b_cpu.data<uint32_t>(), kw,
                         want.data(), n);
  std::vector<int32_t> all = got.to_host<int32_t>();
  for (int64_t i = 0; i < rows * n; ++i)
    if (all[static_cast<size_t>(r0 * n + i)] != want[static_cast<size_t>(i)])
      return "mismatch vs the CPU kernel at row " + std::to_string(r0 + i / n) + " column " + std::to_string(i % n);
  return "";
}

void BM_CudaXnorGemm(benchmark::State& state, XnorCudaPath path, bool pack) {
  if (skip_without_gpu(state)) return;
  if (!path_available(path)) return state.SkipWithError("this GPU/build lacks the path");
  const int64_t n = state.range(0), kw = lowbit::packed_words(n);
  const GemmCase& c = gemm_case(n);
  Tensor sums = Tensor::empty({n, n}, DType::i32, Device::cuda());
  const XnorEpilogueArgs ep_sums{XnorEpilogueArgs::Kind::i32, sums.raw_data(), n};
  auto gemm = [&](const XnorEpilogueArgs& ep) {
    lowbit::cuda::xnor_gemm(n, n, kw, n, c.a.data<uint32_t>(), kw, c.b.data<uint32_t>(), kw, ep, path);
  };
  gemm(ep_sums);
  for (int64_t r0 : {int64_t{0}, std::max<int64_t>(n - 64, 0)})
    if (std::string err = check_rows(c, sums, n, r0, std::min<int64_t>(64, n)); !err.empty())
      return state.SkipWithError(err.c_str());
  XnorEpilogueArgs ep = ep_sums;
  Thresholds th(n);
  Tensor bits = Tensor::empty({n, n}, DType::b1, Device::cuda());
  if (pack) {
    ep = XnorEpilogueArgs{XnorEpilogueArgs::Kind::threshold, bits.raw_data(), kw};
    ep.threshold = th.t.data<int32_t>();
    ep.mode = th.mode.data<uint8_t>();
    gemm(ep);  // the packed words must be the CPU epilogue of the (validated) sums
    Tensor want = lowbit::xnor_epilogue(sums.to(Device::cpu()), [&] {
      lowbit::XnorEpilogue e = th.op_epilogue();
      e.threshold = e.threshold.to(Device::cpu());
      e.mode = e.mode.to(Device::cpu());
      return e;
    }());
    if (want.to_host<uint32_t>() != bits.to_host<uint32_t>())
      return state.SkipWithError("threshold-pack output differs from the CPU epilogue of the sums");
  }
  run_timed(state, 2.0 * n * n * n, "cublas_bf16", c.cublas_seconds, [&] { gemm(ep); });
}

void gemm_args(benchmark::internal::Benchmark* b) { b->Arg(8192)->UseManualTime()->Unit(benchmark::kMicrosecond); }

const bool gemm_registered = [] {
  const std::pair<const char*, XnorCudaPath> paths[] = {{"popc", XnorCudaPath::popc},
                                                        {"mma", XnorCudaPath::mma},
                                                        {"wgmma", XnorCudaPath::wgmma},
                                                        {"auto", XnorCudaPath::automatic}};
  for (const auto& [name, path] : paths)
    for (bool pack : {false, true})
      benchmark::RegisterBenchmark((std::string("CudaXnorGemm/") + name + (pack ? "/threshold" : "/i32")).c_str(),
                                   BM_CudaXnorGemm, path, pack)
          ->Apply(gemm_args);
  return true;
}();

// ---------------------------------------------------------------- convolution

// ResNet-18's 3×3 stage layers at batch 64.
const ConvShape kConvShapes[] = {
    {64, 56, 56, 64, 64, 3, 1, 1},
    {64, 28, 28, 128, 128, 3, 1, 1},
    {64, 14, 14, 256, 256, 3, 1, 1},
    {64, 7, 7, 512, 512, 3, 1, 1},
};

// cuDNN fp16 NHWC forward convolution (tensor-op math, f32 accumulation), descriptors, the
// fastest algorithm of cudnnFindConvolutionForwardAlgorithm and its workspace made once.
struct HalfConv {
  lowbit::cuda::CudnnTensorDesc x, y;
  lowbit::cuda::CudnnFilterDesc w;
  lowbit::cuda::CudnnConvDesc conv;
  cudnnConvolutionFwdAlgo_t algo{};
  Tensor workspace;
  size_t workspace_bytes = 0;

  explicit HalfConv(const ConvShape& s) {
    cudnnHandle_t h = direct_cudnn();
    make_conv_descriptors(s, CUDNN_DATA_HALF, CUDNN_TENSOR_OP_MATH, x.out(), y.out(), w.out(), conv.out());
    int count = 0, returned = 0;
    LOWBIT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(count));
    LOWBIT_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, x, w, conv, y, count, &returned, perf.data()));
    for (int k = 0; k < returned; ++k) {
      if (perf[static_cast<size_t>(k)].status != CUDNN_STATUS_SUCCESS) continue;
      algo = perf[static_cast<size_t>(k)].algo;
      workspace_bytes = perf[static_cast<size_t>(k)].memory;
      break;
    }
    workspace = Tensor::empty({static_cast<int64_t>(workspace_bytes) + 1}, DType::u8, Device::cuda());
  }

  void run(const Tensor& xt, const Tensor& wt, Tensor& yt) const {
    const float one = 1.f, zero = 0.f;
    LOWBIT_CUDNN_CHECK(cudnnConvolutionForward(direct_cudnn(), &one, x, xt.raw_data(), w, wt.raw_data(), conv, algo,
                                               workspace.raw_data(), workspace_bytes, &zero, y, yt.raw_data()));
  }
};

struct ConvCase {
  Tensor x, w;        // packed b1 on the GPU
  Thresholds th;
  Tensor want;        // the CPU op's packed output with the same epilogue
  double cudnn_seconds;
};

const ConvCase& conv_case(int64_t index) {
  static auto& cache = *new std::map<int64_t, std::unique_ptr<ConvCase>>();  // leaked: no CUDA frees at exit
  auto it = cache.find(index);
  if (it != cache.end()) return *it->second;
  const ConvShape& s = kConvShapes[index];
  Tensor fx = random_pm1({s.N, s.H, s.W, s.C}, 3), fw = random_pm1({s.O, s.K, s.K, s.C}, 4);
  Tensor px = fx.to(DType::b1), pw = fw.to(DType::b1);
  Thresholds th(s.O);
  lowbit::XnorEpilogue cpu_ep = th.op_epilogue();
  cpu_ep.threshold = cpu_ep.threshold.to(Device::cpu());
  cpu_ep.mode = cpu_ep.mode.to(Device::cpu());
  Tensor want = lowbit::xnor_conv2d(px, pw, s.stride, s.pad, cpu_ep);
  HalfConv peer(s);
  Tensor x16 = fx.to(Device::cuda()).to(DType::f16), w16 = fw.to(Device::cuda()).to(DType::f16);
  Tensor y16 = Tensor::empty({s.N, s.OH(), s.OW(), s.O}, DType::f16, Device::cuda());
  const double cudnn_seconds = best_seconds([&] { peer.run(x16, w16, y16); });
  auto c = std::unique_ptr<ConvCase>(
      new ConvCase{px.to(Device::cuda()), pw.to(Device::cuda()), std::move(th), want, cudnn_seconds});
  return *cache.emplace(index, std::move(c)).first->second;
}

void BM_CudaXnorConv(benchmark::State& state, XnorCudaPath path, int64_t index) {
  if (skip_without_gpu(state)) return;
  if (!path_available(path)) return state.SkipWithError("this GPU/build lacks the path");
  const ConvShape& s = kConvShapes[index];
  const ConvCase& c = conv_case(index);
  const lowbit::cpu::BinaryConvGeom g{s.N, s.H, s.W, s.C, s.O, s.K, s.K, s.OH(), s.OW(), s.stride, s.stride, s.pad,
                                      s.pad};
  Tensor out = Tensor::empty({s.N, s.OH(), s.OW(), s.O}, DType::b1, Device::cuda());
  XnorEpilogueArgs ep{XnorEpilogueArgs::Kind::threshold, out.raw_data(), lowbit::packed_words(s.O)};
  ep.threshold = c.th.t.data<int32_t>();
  ep.mode = c.th.mode.data<uint8_t>();
  auto conv = [&] { lowbit::cuda::xnor_conv2d(c.x.data<uint32_t>(), c.w.data<uint32_t>(), g, ep, path); };
  conv();
  if (out.to_host<uint32_t>() != c.want.to_host<uint32_t>())
    return state.SkipWithError("packed output differs from the CPU xnor_conv2d with the same epilogue");
  run_timed(state, s.flops(), "cudnn_fp16", c.cudnn_seconds, conv);
}

const bool conv_registered = [] {
  const std::pair<const char*, XnorCudaPath> paths[] = {{"popc", XnorCudaPath::popc},
                                                        {"mma", XnorCudaPath::mma},
                                                        {"wgmma", XnorCudaPath::wgmma},
                                                        {"auto", XnorCudaPath::automatic}};
  for (int64_t i = 0; i < static_cast<int64_t>(std::size(kConvShapes)); ++i)
    for (const auto& [name, path] : paths)
      benchmark::RegisterBenchmark(
          (std::string("CudaXnorConv/") + name + "/" + conv_label(kConvShapes[i]) + "/threshold").c_str(),
          BM_CudaXnorConv, path, i)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace

#endif  // LOWBIT_WITH_CUDA
