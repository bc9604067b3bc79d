// CUDA multi-bit GEMM benchmarks (MINW-Net Table I operations on the GPU), compiled only in CUDA
// builds (the whole file is under #if LOWBIT_WITH_CUDA).
//
// Measured, at the logical shape C[n,n] = A[n,n]·B[n,n]ᵀ with 3-bit unsigned activation codes
// (DoReFa-style) and AQE's 3-bit power-of-two weight codes (Table I's 3/3 SHIFT row):
//   CudaMultibit/int8/u3xpow2_3/n    : cuda::int8_gemm (cuBLAS int8 tensor cores, exact int32) on the
//                                      int8 values (n is a multiple of 16: no padding needed)
//   CudaMultibit/shift/u3xpow2_3/n   : cuda::shift_gemm, the CUDA-core shift kernel (exact int32)
//   CudaMultibit/bitserial/u3xpow2_3/n : cuda::bitserial_gemm_planes on pre-packed bit planes
//                                      (3 × 4 = 12 plane pairs, one binary tensor-core GEMM each);
//                                      counter pack_ms: cuda::pack_code_planes of both operands,
//                                      which multibit_matmul adds per call
//   CudaMultibit/adder/f16xpow2_3/n  : cuda::adder_gemm, fp16 activations × the same weight codes (f32 out)
//   CudaMultibit/cublas_f16/n        : the peer: cuBLAS fp16 GEMM (f32 accumulation, fp16 out) on the
//                                      same values as fp16 (cuda::gemm_16)
// And with 1-bit unsigned activations × binary ±1 weights (one plane pair, XNOR-Net's case):
//   CudaMultibit/int8/u1xbinary/n, CudaMultibit/bitserial/u1xbinary/n, CudaMultibit/shift/u1xbinary/n
// Operands are prepared outside the timing (codes -> int8 values, fp16 copies), as weights would be.
// Validation first (SkipWithError on a mismatch): int8 and shift must agree exactly on every element
// and equal a host int64 dot product on 64 sampled elements; bitserial must equal int8 on every
// element; the adder must equal the sequential f32 sum on 64 sampled elements bit for bit.
// Counters: Top/s (2·n³ logical ops); vs_cublas_f16 = cuBLAS fp16 time / own time; int8 also reports
// vs_shift (= shift time / int8 time: goal P9 ≥ 50) and vs_bitserial; shift, adder and bitserial
// report vs_int8. Each time is the best of 2 batches after a warm-up, all in the same run, CUDA
// events on the current stream.
//
// Run: build/bench/lowbit-bench --benchmark_filter=CudaMultibit
#if LOWBIT_WITH_CUDA

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_cuda_util.h"
#include "bench/bench_util.h"
#include "core/device.h"
#include "core/ops/multibit.h"
#include "core/random.h"
#include "kernels/bit_math.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/multibit_gemm.h"

namespace {

using lowbit::CodeFormat;
using lowbit::CodeKind;
using lowbit::Device;
using lowbit::DType;
using lowbit::Tensor;
using namespace lowbit::bench;

// The operand formats of one benchmark row.
struct Formats {
  CodeFormat a, b;
};
const Formats kU3Pow2 = {CodeFormat::unsigned_bits(3), CodeFormat::pow2(3)};
const Formats kU1Binary = {CodeFormat::unsigned_bits(1), CodeFormat::binary()};

// Best of 2 batches of `reps` calls (ms per call), after the warm-up call in time_ms.
template <typename F>
double best_ms(F&& f, int reps) {
  return std::min(time_ms(f, reps), time_ms(f, reps));
}

struct Operands {
  int64_t n = 0;
  Formats f;
  Tensor a_codes, b_codes, a_values, b_values, a_f16, b_f16;
  Tensor a_planes, b_planes, a_popc, b_popc;  // i32 storage of the packed planes (ldw words per row)
  int64_t ldw = 0;
};

void pack(Operands& o) {
  using lowbit::cuda::pack_code_planes;
  pack_code_planes(o.a_codes.data<int8_t>(), o.n, o.n, o.n, o.f.a.kind, o.f.a.bits,
                   reinterpret_cast<uint32_t*>(o.a_planes.data<int32_t>()), o.ldw, o.a_popc.data<int32_t>());
  pack_code_planes(o.b_codes.data<int8_t>(), o.n, o.n, o.n, o.f.b.kind, o.f.b.bits,
                   reinterpret_cast<uint32_t*>(o.b_planes.data<int32_t>()), o.ldw, o.b_popc.data<int32_t>());
}

// Codes uniform over a format's valid codes, drawn on the GPU (binary: 0..1, then 0 -> −1 on the host).
Tensor random_codes(CodeFormat f, int64_t n, uint64_t seed) {
  lowbit::Generator g(seed);
  const bool binary = f.kind == CodeKind::binary;
  const int lo = binary ? 0 : lowbit::code_min(f.kind, f.bits), hi = lowbit::code_max(f.kind, f.bits);
  Tensor t = Tensor::randint(lo, hi + 1, {n, n}, Device::cuda(), &g).to(DType::i8);
  if (!binary) return t;
  Tensor h = t.to(Device::cpu());
  for (int8_t *c = h.data<int8_t>(), *e = c + h.numel(); c != e; ++c) *c = *c == 0 ? int8_t{-1} : *c;
  return h.to(Device::cuda());
}

// u3: a uniform in 0..7, pow2(3): b uniform in −3..3; u1: 0..1, binary: ±1.
Operands make_operands(int64_t n, Formats f) {
  Operands o;
  o.n = n;
  o.f = f;
  o.a_codes = random_codes(f.a, n, 1);
  o.b_codes = random_codes(f.b, n, 2);
  o.a_values = Tensor::empty({n, n}, DType::i8, Device::cuda());
  o.b_values = Tensor::empty({n, n}, DType::i8, Device::cuda());
  lowbit::cuda::codes_to_int8(o.a_codes.data<int8_t>(), n, n, f.a.kind, o.a_values.data<int8_t>(), n);
  lowbit::cuda::codes_to_int8(o.b_codes.data<int8_t>(), n, n, f.b.kind, o.b_values.data<int8_t>(), n);
  o.ldw = (lowbit::packed_words(n) + 3) / 4 * 4;
  const int64_t P = lowbit::plane_count(f.a.kind, f.a.bits), Q = lowbit::plane_count(f.b.kind, f.b.bits);
  o.a_planes = Tensor::empty({P * n * o.ldw}, DType::i32, Device::cuda());
  o.b_planes = Tensor::empty({Q * n * o.ldw}, DType::i32, Device::cuda());
  o.a_popc = Tensor::empty({P * n}, DType::i32, Device::cuda());
  o.b_popc = Tensor::empty({Q * n}, DType::i32, Device::cuda());
  pack(o);
  o.a_f16 = o.a_values.to(DType::f32).to(DType::f16);
  o.b_f16 = o.b_values.to(DType::f32).to(DType::f16);
  return o;
}

void run_int8(const Operands& o, Tensor& c) {
  lowbit::cuda::int8_gemm(o.n, o.n, o.n, o.a_values.data<int8_t>(), o.n, o.b_values.data<int8_t>(), o.n,
                          c.data<int32_t>(), o.n);
}
void run_shift(const Operands& o, Tensor& c) {
  lowbit::cuda::shift_gemm(o.n, o.n, o.n, o.a_values.data<int8_t>(), o.n, o.b_codes.data<int8_t>(), o.n,
                           c.data<int32_t>(), o.n);
}
void run_bitserial(const Operands& o, Tensor& c) {
  using lowbit::cuda::DevicePlanes;
  const DevicePlanes a{reinterpret_cast<const uint32_t*>(o.a_planes.data<int32_t>()), o.ldw, o.a_popc.data<int32_t>(),
                       o.f.a.kind, o.f.a.bits};
  const DevicePlanes b{reinterpret_cast<const uint32_t*>(o.b_planes.data<int32_t>()), o.ldw, o.b_popc.data<int32_t>(),
                       o.f.b.kind, o.f.b.bits};
  lowbit::cuda::bitserial_gemm_planes(o.n, o.n, o.n, a, b, c.data<int32_t>(), o.n);
}
void run_adder(const Operands& o, Tensor& c) {
  lowbit::cuda::adder_gemm(o.n, o.n, o.n, o.a_f16.data<uint16_t>(), o.n, o.b_codes.data<int8_t>(), o.n,
                           c.data<float>(), o.n);
}
void run_cublas_f16(const Operands& o, Tensor& c) {
  lowbit::cuda::gemm_16(lowbit::cuda::Half16::f16, false, true, o.n, o.n, o.n, 1.f, o.a_f16.raw_data(), o.n,
                        o.b_f16.raw_data(), o.n, 0.f, c.raw_data(), o.n);
}

// 64 sampled (m, n) positions.
std::vector<std::pair<int64_t, int64_t>> samples(int64_t n) {
  std::vector<std::pair<int64_t, int64_t>> s;
  for (int64_t i = 0; i < 64; ++i) s.push_back({(i * 7919 + 13) % n, (i * 104729 + 5) % n});
  s.push_back({n - 1, n - 1});
  return s;
}

// Empty when int8 and shift agree everywhere and match host dot products on the samples.
std::string validate_integer(const Operands& o, const Tensor& c8, const Tensor& cs) {
  std::vector<int32_t> g8 = c8.to_host<int32_t>(), gs = cs.to_host<int32_t>();
  for (size_t i = 0; i < g8.size(); ++i)
    if (g8[i] != gs[i])
      return "int8 and shift differ at " + std::to_string(i) + ": " + std::to_string(g8[i]) + " vs " +
             std::to_string(gs[i]);
  std::vector<int8_t> a = o.a_values.to_host<int8_t>(), b = o.b_values.to_host<int8_t>();
  for (auto [m, n] : samples(o.n)) {
    int64_t want = 0;
    for (int64_t k = 0; k < o.n; ++k) want += int64_t{a[m * o.n + k]} * b[n * o.n + k];
    if (g8[m * o.n + n] != want)
      return "mismatch vs the host dot product at (" + std::to_string(m) + ", " + std::to_string(n) + ")";
  }
  return "";
}

std::string validate_same(const Tensor& want, const Tensor& got, const char* what) {
  std::vector<int32_t> w = want.to_host<int32_t>(), g = got.to_host<int32_t>();
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] != g[i])
      return std::string(what) + " differs from int8 at " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs " +
             std::to_string(w[i]);
  return "";
}

std::string validate_adder(const Operands& o, const Tensor& c) {
  std::vector<float> got = c.to_vector(), a = o.a_f16.to(DType::f32).to_vector();
  std::vector<int8_t> b = o.b_values.to_host<int8_t>();
  for (auto [m, n] : samples(o.n)) {
    float s = 0.f;
    for (int64_t k = 0; k < o.n; ++k) s = s + a[m * o.n + k] * static_cast<float>(b[n * o.n + k]);
    if (std::memcmp(&s, &got[m * o.n + n], sizeof(float)) != 0)
      return "adder differs from the sequential f32 sum at (" + std::to_string(m) + ", " + std::to_string(n) + ")";
  }
  return "";
}

enum class Kind { int8, shift, bitserial, adder, cublas_f16 };

void BM_CudaMultibit(benchmark::State& state, Kind kind, Formats f) {
  if (skip_without_gpu(state)) return;
  const int64_t n = state.range(0);
  Operands o = make_operands(n, f);
  Tensor c8 = Tensor::empty({n, n}, DType::i32, Device::cuda()), cs = Tensor::empty({n, n}, DType::i32, Device::cuda());
  Tensor cf = Tensor::empty({n, n}, DType::f32, Device::cuda()), ch = Tensor::empty({n, n}, DType::f16, Device::cuda());
  run_int8(o, c8);
  run_shift(o, cs);
  if (std::string err = validate_integer(o, c8, cs); !err.empty()) return state.SkipWithError(err.c_str());
  Tensor cb = Tensor::empty({n, n}, DType::i32, Device::cuda());
  if (kind == Kind::bitserial || kind == Kind::int8) {
    run_bitserial(o, cb);
    if (std::string err = validate_same(c8, cb, "bitserial"); !err.empty()) return state.SkipWithError(err.c_str());
  }
  if (kind == Kind::adder) {
    run_adder(o, cf);
    if (std::string err = validate_adder(o, cf); !err.empty()) return state.SkipWithError(err.c_str());
  }
  const int slow_reps = n >= 8192 ? 2 : 5;  // the CUDA-core kernels take ~0.1 s at 8192³
  const double t_cublas = best_ms([&] { run_cublas_f16(o, ch); }, 10);
  const double t_int8 = best_ms([&] { run_int8(o, c8); }, 10);
  const double t_shift = kind == Kind::cublas_f16 ? 0.0 : best_ms([&] { run_shift(o, cs); }, slow_reps);
  const double t_bitserial = kind == Kind::int8 || kind == Kind::bitserial ? best_ms([&] { run_bitserial(o, cb); }, 5) : 0.0;
  double own = 0.0;
  switch (kind) {
    case Kind::int8: own = t_int8; break;
    case Kind::shift: own = t_shift; break;
    case Kind::bitserial:
      own = t_bitserial;
      state.counters["pack_ms"] = best_ms([&] { pack(o); }, 5);
      break;
    case Kind::adder: own = best_ms([&] { run_adder(o, cf); }, slow_reps); break;
    case Kind::cublas_f16: own = t_cublas; break;
  }
  for (auto _ : state) state.SetIterationTime(own * 1e-3);
  const double ops = 2.0 * n * n * n;
  state.counters["Top/s"] = ops * 1e-12 / (own * 1e-3);
  state.counters["vs_cublas_f16"] = t_cublas / own;
  if (kind == Kind::int8) {
    state.counters["vs_shift"] = t_shift / own;
    state.counters["vs_bitserial"] = t_bitserial / own;
  }
  if (kind == Kind::shift || kind == Kind::adder || kind == Kind::bitserial) state.counters["vs_int8"] = t_int8 / own;
}

const bool registered = [] {
  struct Row {
    const char* name;
    Kind kind;
    Formats f;
  };
  const Row rows[] = {{"CudaMultibit/int8/u3xpow2_3", Kind::int8, kU3Pow2},
                      {"CudaMultibit/shift/u3xpow2_3", Kind::shift, kU3Pow2},
                      {"CudaMultibit/bitserial/u3xpow2_3", Kind::bitserial, kU3Pow2},
                      {"CudaMultibit/adder/f16xpow2_3", Kind::adder, kU3Pow2},
                      {"CudaMultibit/int8/u1xbinary", Kind::int8, kU1Binary},
                      {"CudaMultibit/shift/u1xbinary", Kind::shift, kU1Binary},
                      {"CudaMultibit/bitserial/u1xbinary", Kind::bitserial, kU1Binary},
                      {"CudaMultibit/cublas_f16", Kind::cublas_f16, kU3Pow2}};
  for (const Row& r : rows)
    benchmark::RegisterBenchmark(r.name, BM_CudaMultibit, r.kind, r.f)
        ->Arg(4096)
        ->Arg(8192)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace

#endif  // LOWBIT_WITH_CUDA
