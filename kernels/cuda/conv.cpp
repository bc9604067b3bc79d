// cuDNN glue for kernels/cuda/conv.h. Per (device, direction, shape, TF32 switch, determinism
// switch) a Plan holds the four descriptors (x/y NHWC, filter NHWC = OHWI, convolution with the
// group count and math type) and the algorithm picked once by cuDNN's heuristics
// (cudnnGet*Algorithm_v7: no trial runs, no host synchronization, the same choice every run),
// cached in a map. The pick is the first heuristic result that succeeds, respects the math mode
// (FMA math — plain f32 — unless lowbit::allow_tf32()), is deterministic when
// lowbit::deterministic_algorithms() is on, and needs at most kMaxWorkspace bytes of workspace,
// which each call takes from the caching allocator (cuda::DeviceBuffer).
// Flops per direction: 2·N·OH·OW·O·KH·KW·C/groups.
#include "kernels/cuda/conv.h"

#include <array>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/math_mode.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/gemm.h"

namespace lowbit::cuda {

namespace {

constexpr size_t kMaxWorkspace = size_t{1} << 30;

enum class Dir : int { forward = 0, backward_data = 1, backward_filter = 2 };
const char* dir_name(Dir d) {
  return d == Dir::forward ? "forward" : d == Dir::backward_data ? "backward-data" : "backward-filter";
}

struct Plan {
  CudnnTensorDesc x, y;  // x NHWC, y NHWC
  CudnnFilterDesc w;     // NHWC filter = OHWI
  CudnnConvDesc conv;
  int algo = 0;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, by direction
  size_t workspace = 0;
};

using Key = std::array<int64_t, 18>;

std::mutex g_mutex;
// Leaked on purpose, like the handles (kernels/cuda/context.h, "Lifetime"): no cuDNN calls from
// static destructors at exit.
auto& g_plans = *new std::map<Key, std::unique_ptr<Plan>>();

int dim(int64_t v, const char* what) {
  LOWBIT_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "conv2d (cuDNN): ", what, " = ", v,
               " does not fit cuDNN's 32-bit sizes");
  return static_cast<int>(v);
}

cudnnHandle_t ready_handle() { return cudnn_handle(); }  // bound to the current stream at creation

void describe(Plan& p, const ConvShape& s, bool tf32) {
  LOWBIT_CUDNN_CHECK(cudnnCreateTensorDescriptor(p.x.out()));
  LOWBIT_CUDNN_CHECK(cudnnCreateTensorDescriptor(p.y.out()));
  LOWBIT_CUDNN_CHECK(cudnnCreateFilterDescriptor(p.w.out()));
  LOWBIT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(p.conv.out()));
  LOWBIT_CHECK(s.N * s.H * s.W * s.C <= std::numeric_limits<int>::max() &&
                   s.N * s.OH * s.OW * s.O <= std::numeric_limits<int>::max(),
               "conv2d (cuDNN): tensors over 2^31 elements are not supported (x [", s.N, ", ", s.H, ", ", s.W, ", ",
               s.C, "], y [", s.N, ", ", s.OH, ", ", s.OW, ", ", s.O, "])");
  LOWBIT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, dim(s.N, "N"),
                                                dim(s.C, "C"), dim(s.H, "H"), dim(s.W, "W")));
  LOWBIT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, dim(s.N, "N"),
                                                dim(s.O, "O"), dim(s.OH, "OH"), dim(s.OW, "OW")));
  LOWBIT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, dim(s.O, "O"),
                                                dim(s.C / s.groups, "C/groups"), dim(s.KH, "KH"), dim(s.KW, "KW")));
  LOWBIT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p.conv, dim(s.ph, "pad_h"), dim(s.pw, "pad_w"),
                                                     dim(s.sh, "stride_h"), dim(s.sw, "stride_w"), 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  LOWBIT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(p.conv, dim(s.groups, "groups")));
  LOWBIT_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
}

// Picks the first acceptable heuristic result; workspace(algo, &bytes) queries the exact size.
template <typename Perf, typename Workspace>
void choose(Plan& p, const std::vector<Perf>& perf, int returned, bool tf32, bool deterministic, Dir dir,
            Workspace workspace) {
  for (int i = 0; i < returned; ++i) {
    const Perf& r = perf[static_cast<size_t>(i)];
    if (r.status != CUDNN_STATUS_SUCCESS) continue;
    if (deterministic && r.determinism != CUDNN_DETERMINISTIC) continue;
    if (!tf32 && (r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)) continue;
    // Without TF32 the descriptor stays on FMA math; with it, take the math type the result wants.
    LOWBIT_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, tf32 ? r.mathType : CUDNN_FMA_MATH));
    size_t bytes = 0;
    if (workspace(static_cast<int>(r.algo), &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspace) continue;
    p.algo = static_cast<int>(r.algo);
    p.workspace = bytes;
    return;
  }
  LOWBIT_FAIL("conv2d (cuDNN): no ", dir_name(dir), " algorithm fits (", returned, " candidates; TF32 ",
              tf32 ? "on" : "off", ", deterministic ", deterministic ? "on" : "off", ", workspace limit ",
              kMaxWorkspace, " bytes)");
}

void pick_algorithm(cudnnHandle_t h, Plan& p, Dir dir, bool tf32, bool det) {
  int max_count = 0, returned = 0;
  switch (dir) {
    case Dir::forward: {
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max_count));
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, max_count,
                                                                &returned, perf.data()));
      choose(p, perf, returned, tf32, det, dir, [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, p.x, p.w, p.conv, p.y,
                                                       static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
      });
      break;
    }
    case Dir::backward_data: {
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max_count));
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, max_count,
                                                                     &returned, perf.data()));
      choose(p, perf, returned, tf32, det, dir, [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w, p.y, p.conv, p.x,
                                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
      });
      break;
    }
    case Dir::backward_filter: {
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max_count));
      LOWBIT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w, max_count,
                                                                       &returned, perf.data()));
      choose(p, perf, returned, tf32, det, dir, [&](int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
            h, p.x, p.y, p.conv, p.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
      });
      break;
    }
  }
}

// The cached plan of this call (created on first use). Plans are never moved, so the reference
// stays valid until conv_clear_cache().
const Plan& plan_for(cudnnHandle_t h, const ConvShape& s, Dir dir) {
  bool tf32 = allow_tf32(), det = deterministic_algorithms();
  Key key{current_device(), static_cast<int64_t>(dir), tf32, det, s.N, s.H, s.W, s.C, s.O, s.KH, s.KW,
          s.OH, s.OW, s.sh, s.sw, s.ph, s.pw, s.groups};
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_plans.find(key);
  if (it != g_plans.end()) return *it->second;
  auto plan = std::make_unique<Plan>();
  describe(*plan, s, tf32);
  pick_algorithm(h, *plan, dir, tf32, det);
  return *g_plans.emplace(key, std::move(plan)).first->second;
}

DeviceBuffer workspace_for(const Plan& p) { return p.workspace > 0 ? DeviceBuffer(p.workspace) : DeviceBuffer(); }

bool empty(const ConvShape& s) { return s.N == 0 || s.O == 0 || s.C == 0 || s.OH == 0 || s.OW == 0; }

}  // namespace

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  if (s.N == 0 || s.O == 0 || s.OH == 0 || s.OW == 0) return;
  LOWBIT_CHECK(s.C > 0, "conv2d (cuDNN): zero input channels");
  cudnnHandle_t h = ready_handle();
  const Plan& p = plan_for(h, s, Dir::forward);
  DeviceBuffer ws = workspace_for(p);
  const float one = 1.f, zero = 0.f;
  LOWBIT_CUDNN_CHECK(cudnnConvolutionForward(h, &one, p.x, x, p.w, w, p.conv,
                                             static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), ws.data(), p.workspace,
                                             &zero, p.y, y));
  if (bias) add_row_bias(y, s.O, bias, s.N * s.OH * s.OW, s.O);
}

void conv2d_backward_data(const ConvShape& s, const float* w, const float* gy, float* dx) {
  if (s.N == 0 || s.C == 0 || s.H == 0 || s.W == 0) return;
  if (empty(s)) {  // no output: the gradient is zero
    LOWBIT_CUDA_CHECK(cudaMemsetAsync(dx, 0, static_cast<size_t>(s.N * s.H * s.W * s.C) * sizeof(float),
                                      current_stream()));
    return;
  }
  cudnnHandle_t h = ready_handle();
  const Plan& p = plan_for(h, s, Dir::backward_data);
  DeviceBuffer ws = workspace_for(p);
  const float one = 1.f, zero = 0.f;
  LOWBIT_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, p.w, w, p.y, gy, p.conv,
                                                  static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algo), ws.data(),
                                                  p.workspace, &zero, p.x, dx));
}

void conv2d_backward_filter(const ConvShape& s, const float* x, const float* gy, float* dw) {
  int64_t wn = s.O * s.KH * s.KW * (s.groups > 0 ? s.C / s.groups : 0);
  if (wn == 0) return;
  if (empty(s)) {
    LOWBIT_CUDA_CHECK(cudaMemsetAsync(dw, 0, static_cast<size_t>(wn) * sizeof(float), current_stream()));
    return;
  }
  cudnnHandle_t h = ready_handle();
  const Plan& p = plan_for(h, s, Dir::backward_filter);
  DeviceBuffer ws = workspace_for(p);
  const float one = 1.f, zero = 0.f;
  LOWBIT_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, p.x, x, p.y, gy, p.conv,
                                                    static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algo), ws.data(),
                                                    p.workspace, &zero, p.w, dw));
}

void conv_clear_cache() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_plans.clear();
}

}  // namespace lowbit::cuda
