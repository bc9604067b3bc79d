// CUDA SHIFT GEMM (kernels/cuda/multibit_gemm.h): the tiled CUDA-core GEMM of multibit_tile.cuh
// with int32 activations and each weight code staged as (shift t, sign mask s): a term is
// funnelshift(a, t) (t = 32 for code 0 gives 0), sign-applied as (v ⊕ s) − s, so one MAC is
// SHF + LOP3 + IADD3 and no multiply; equal to shift_term of kernels/multibit_math.h bit for bit.
#include "kernels/cuda/multibit_gemm.h"
#include "kernels/cuda/multibit_tile.cuh"

namespace lowbit::cuda {

namespace {

struct ShiftOp {
  using AIn = int8_t;
  using AS = int32_t;
  using BS = int2;  // x: shift count (32 for code 0), y: sign mask (0 or −1)
  using Acc = int32_t;
  using Out = int32_t;
  __device__ static AS load_a(AIn a) { return a; }
  __device__ static AS zero_a() { return 0; }
  __device__ static BS load_b(int c) {
    return make_int2(c == 0 ? 32 : (c < 0 ? -c : c) - 1, c < 0 ? -1 : 0);
  }
  __device__ static Acc init() { return 0; }
  __device__ static Acc step(Acc acc, AS a, BS b) {
    const int32_t v = static_cast<int32_t>(__funnelshift_lc(0u, static_cast<uint32_t>(a), static_cast<uint32_t>(b.x)));
    return static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(v ^ b.y) - static_cast<uint32_t>(b.y));
  }
  __device__ static Out out(Acc acc) { return acc; }
};

}  // namespace

void shift_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B_codes, int64_t ldb,
                int32_t* C, int64_t ldc) {
  multibit_tile::launch<ShiftOp>(M, N, K, A, lda, B_codes, ldb, C, ldc);
}

}  // namespace lowbit::cuda
