// CUDA GEMM and conv2d benchmarks (f32, no TF32), compiled only in CUDA builds (the whole file is
// under #if LOWBIT_WITH_CUDA, so bench/CMakeLists.txt can glob it unconditionally).
//
// Measured:
//   CudaGemm/{lowbit,cublas}/n : C[n,n] = A[n,n] B[n,n] through lowbit::matmul on CUDA tensors
//     (allocation from the caching allocator and dispatch included) and cublasSgemm called
//     directly on the same stream.
//   CudaConv2d/{lowbit,cudnn}/<shape> : lowbit::conv2d on NHWC/OHWI ResNet-like shapes, and
//     cudnnConvolutionForward called directly (NHWC descriptors, FMA math, the first heuristic
//     algorithm, workspace from cudaMalloc outside the timing).
// Each benchmark first checks its result against the direct library call (SkipWithError on a
// mismatch), then times with CUDA events around each iteration (manual time). Counters:
// TFLOP/s (2·M·N·K, or 2·N·OH·OW·O·KH·KW·C) and vs_<peer>: peer time / own time, the peer timed in
// the same run (best of 3 batches of 10 calls after a warm-up). Without a GPU every benchmark
// stops at once with "no CUDA device present".
//
// Run: build/bench/lowbit-bench --benchmark_filter=Cuda --benchmark_format=json
#if LOWBIT_WITH_CUDA

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/ops/conv.h"
#include "core/ops/linalg.h"
#include "core/random.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "bench/bench_util.h"
#include "bench/bench_cuda_util.h"

namespace {

using lowbit::Conv2dParams;
using lowbit::Device;
using lowbit::Shape;
using lowbit::Tensor;

using namespace lowbit::bench;

Tensor random_cuda(const Shape& shape, uint64_t seed) {
  return random_tensor(shape, seed).to(Device::cuda());  // uniform [0, 1)
}

// Empty when got matches want within 1e-3·(1 + |want|); else the first mismatch.
std::string compare(const Tensor& got_t, const Tensor& want_t) {
  std::vector<float> got = got_t.to_vector(), want = want_t.to_vector();
  if (got.size() != want.size()) return "size mismatch";
  return first_mismatch(got.data(), want.data(), want.size(), "the library");
}

// Times each iteration with events (manual time) and sets the counters.
template <typename F>
void run_timed(benchmark::State& state, double flops, const std::map<std::string, double>& peers, F&& f) {
  f();  // warm-up (algorithm choice, allocator)
  for (auto _ : state) state.SetIterationTime(events_ms(f, 1) * 1e-3);
  // The ratio compares like with like: own and peer both as the best of 3 batches of 10 calls
  // (single-call event times carry ~50 us of launch/event overhead that batches amortize).
  const double own = best_seconds(f);
  state.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  for (const auto& [name, peer] : peers) state.counters["vs_" + name] = peer / own;
}

// ---------------------------------------------------------------- GEMM

cublasHandle_t direct_cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    LOWBIT_CUBLAS_CHECK(cublasCreate(&handle));
    LOWBIT_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    return handle;
  }();
  LOWBIT_CUBLAS_CHECK(cublasSetStream(h, lowbit::cuda::current_stream()));
  return h;
}

// Row-major C = A B as column-major C^T = B^T A^T.
void cublas_gemm(const Tensor& a, const Tensor& b, Tensor& c, int n) {
  const float one = 1.f, zero = 0.f;
  LOWBIT_CUBLAS_CHECK(cublasSgemm(direct_cublas(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b.data<float>(), n,
                                  a.data<float>(), n, &zero, c.data<float>(), n));
}

struct GemmCase {
  Tensor a, b, want;  // want: cuBLAS's result
};

const GemmCase& gemm_case(int64_t n) {
  static auto& cache = *new std::map<int64_t, GemmCase>();  // leaked: no CUDA frees at exit
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  GemmCase c{random_cuda({n, n}, 1), random_cuda({n, n}, 2), Tensor::empty({n, n}, lowbit::DType::f32, Device::cuda())};
  cublas_gemm(c.a, c.b, c.want, static_cast<int>(n));
  return cache.emplace(n, std::move(c)).first->second;
}

void BM_CudaGemm_lowbit(benchmark::State& state) {
  if (!lowbit::cuda_available()) return state.SkipWithError(kNoGpu);
  int64_t n = state.range(0);
  const GemmCase& c = gemm_case(n);
  if (std::string err = compare(lowbit::matmul(c.a, c.b), c.want); !err.empty()) return state.SkipWithError(err.c_str());
  Tensor scratch = Tensor::empty({n, n}, lowbit::DType::f32, Device::cuda());
  double peer = best_seconds([&] { cublas_gemm(c.a, c.b, scratch, static_cast<int>(n)); });
  run_timed(state, 2.0 * n * n * n, {{"cublas", peer}}, [&] { benchmark::DoNotOptimize(lowbit::matmul(c.a, c.b)); });
}

void BM_CudaGemm_cublas(benchmark::State& state) {
  if (!lowbit::cuda_available()) return state.SkipWithError(kNoGpu);
  int64_t n = state.range(0);
  const GemmCase& c = gemm_case(n);
  Tensor out = Tensor::empty({n, n}, lowbit::DType::f32, Device::cuda());
  run_timed(state, 2.0 * n * n * n, {}, [&] { cublas_gemm(c.a, c.b, out, static_cast<int>(n)); });
}

void gemm_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1024)->Arg(4096)->Arg(8192)->UseManualTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_CudaGemm_lowbit)->Name("CudaGemm/lowbit")->Apply(gemm_sizes);
BENCHMARK(BM_CudaGemm_cublas)->Name("CudaGemm/cublas")->Apply(gemm_sizes);

// ---------------------------------------------------------------- conv2d

// ResNet-18 stages at ImageNet scale (batch 32) and ResNet-20's first stage (batch 128).
const ConvShape kConvShapes[] = {
    {32, 56, 56, 64, 64, 3, 1, 1},     {32, 28, 28, 128, 128, 3, 1, 1}, {32, 14, 14, 256, 256, 3, 1, 1},
    {32, 7, 7, 512, 512, 3, 1, 1},     {32, 56, 56, 64, 128, 3, 2, 1},  {32, 28, 28, 128, 256, 1, 2, 0},
    {128, 32, 32, 16, 16, 3, 1, 1},
};

// A direct cuDNN forward convolution for one shape (descriptors, algorithm and workspace made
// once, outside the timing).
struct DirectConv {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algo{};
  void* workspace = nullptr;
  size_t workspace_bytes = 0;

  explicit DirectConv(const ConvShape& s) {
    cudnnHandle_t h = direct_cudnn();
    make_conv_descriptors(s, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, &x, &y, &w, &conv);
    int count = 0, returned = 0;
    LOWBIT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(count));
    LOWBIT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, x, w, conv, y, count, &returned, perf.data()));
    for (int k = 0; k < returned; ++k) {
      if (perf[static_cast<size_t>(k)].status != CUDNN_STATUS_SUCCESS) continue;
      algo = perf[static_cast<size_t>(k)].algo;
      if (cudnnGetConvolutionForwardWorkspaceSize(h, x, w, conv, y, algo, &workspace_bytes) == CUDNN_STATUS_SUCCESS)
        break;
    }
    if (workspace_bytes > 0) LOWBIT_CUDA_CHECK(cudaMalloc(&workspace, workspace_bytes));
  }
  ~DirectConv() {
    if (workspace) cudaFree(workspace);
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  DirectConv(const DirectConv&) = delete;
  DirectConv& operator=(const DirectConv&) = delete;

  void run(const Tensor& xt, const Tensor& wt, Tensor& yt) const {
    const float one = 1.f, zero = 0.f;
    LOWBIT_CUDNN_CHECK(cudnnConvolutionForward(direct_cudnn(), &one, x, xt.data<float>(), w, wt.data<float>(), conv,
                                               algo, workspace, workspace_bytes, &zero, y, yt.data<float>()));
  }
};

struct ConvCase {
  Tensor x, w, want;  // want: cuDNN's result
  std::unique_ptr<DirectConv> direct;
};

const ConvCase& conv_case(int64_t index) {
  static auto& cache = *new std::map<int64_t, ConvCase>();  // leaked: no CUDA frees at exit
  auto it = cache.find(index);
  if (it != cache.end()) return it->second;
  const ConvShape& s = kConvShapes[index];
  ConvCase c{random_cuda({s.N, s.H, s.W, s.C}, 3), random_cuda({s.O, s.K, s.K, s.C}, 4),
             Tensor::empty({s.N, s.OH(), s.OW(), s.O}, lowbit::DType::f32, Device::cuda()),
             std::make_unique<DirectConv>(s)};
  c.direct->run(c.x, c.w, c.want);
  return cache.emplace(index, std::move(c)).first->second;
}

void BM_CudaConv2d_lowbit(benchmark::State& state, int64_t index) {
  if (!lowbit::cuda_available()) return state.SkipWithError(kNoGpu);
  const ConvShape& s = kConvShapes[index];
  const ConvCase& c = conv_case(index);
  Conv2dParams p{s.stride, s.stride, s.pad, s.pad, 1};
  if (std::string err = compare(lowbit::conv2d(c.x, c.w, Tensor(), p), c.want); !err.empty())
    return state.SkipWithError(err.c_str());
  Tensor scratch = Tensor::empty(c.want.shape(), lowbit::DType::f32, Device::cuda());
  double peer = best_seconds([&] { c.direct->run(c.x, c.w, scratch); });
  run_timed(state, s.flops(), {{"cudnn", peer}},
            [&] { benchmark::DoNotOptimize(lowbit::conv2d(c.x, c.w, Tensor(), p)); });
}

void BM_CudaConv2d_cudnn(benchmark::State& state, int64_t index) {
  if (!lowbit::cuda_available()) return state.SkipWithError(kNoGpu);
  const ConvShape& s = kConvShapes[index];
  const ConvCase& c = conv_case(index);
  Tensor out = Tensor::empty(c.want.shape(), lowbit::DType::f32, Device::cuda());
  run_timed(state, s.flops(), {}, [&] { c.direct->run(c.x, c.w, out); });
}

const bool conv_registered = [] {
  for (int64_t i = 0; i < static_cast<int64_t>(std::size(kConvShapes)); ++i) {
    std::string label = conv_label(kConvShapes[i]);
    benchmark::RegisterBenchmark(("CudaConv2d/lowbit/" + label).c_str(), BM_CudaConv2d_lowbit, i)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("CudaConv2d/cudnn/" + label).c_str(), BM_CudaConv2d_cudnn, i)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

#endif  // LOWBIT_WITH_CUDA
