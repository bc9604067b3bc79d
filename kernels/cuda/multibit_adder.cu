// CUDA ADDER GEMM (kernels/cuda/multibit_gemm.h): the tiled CUDA-core GEMM of multibit_tile.cuh
// with fp16 activations widened to f32 and each weight code staged as the float ±2^t
// (pow2_code_float); a term a·(±2^t) is exact, so each step (adder_step: one FFMA) rounds once,
// in increasing k: the sequential f32 sum bit for bit.
#include <cuda_fp16.h>

#include "kernels/cuda/multibit_gemm.h"
#include "kernels/cuda/multibit_tile.cuh"

namespace lowbit::cuda {

namespace {

struct AdderOp {
  using AIn = uint16_t;
  using AS = float;
  using BS = float;
  using Acc = float;
  using Out = float;
  __device__ static AS load_a(AIn a) { return __half2float(__ushort_as_half(a)); }
  __device__ static AS zero_a() { return 0.f; }
  __device__ static BS load_b(int c) { return pow2_code_float(c); }
  __device__ static Acc init() { return 0.f; }
  __device__ static Acc step(Acc acc, AS a, BS w) { return adder_step(acc, a, w); }
  __device__ static Out out(Acc acc) { return acc; }
};

}  // namespace

void adder_gemm(int64_t M, int64_t N, int64_t K, const uint16_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                float* C, int64_t ldc) {
  multibit_tile::launch<AdderOp>(M, N, K, A, lda, B_codes, ldb, C, ldc);
}

}  // namespace lowbit::cuda
