// Multi-bit ops: argument and code checks, the int32 range check, operand preparation (int8
// values, bit planes, zero-padded rows for cuBLAS) and device dispatch (CPU kernels in
// kernels/cpu/multibit_*, CUDA ones in kernels/cuda/multibit_*). See core/ops/multibit.h.
#include "core/ops/multibit.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/bit_math.h"
#include "kernels/cpu/multibit_adder.h"
#include "kernels/cpu/multibit_bitserial.h"
#include "kernels/cpu/multibit_codes.h"
#include "kernels/cpu/multibit_int8.h"
#include "kernels/cpu/multibit_shift.h"
#include "kernels/window.h"
#if LOWBIT_WITH_CUDA
#include "kernels/cuda/multibit_gemm.h"
#endif

namespace lowbit {

namespace {

// A contiguous [rows, k] view of a 2-d operand, checked for dtype.
Tensor matrix_operand(const Tensor& t, DType dtype, const char* op, const char* arg) {
  check_dtype(t, dtype, op, arg);
  check_rank(t, 2, op, arg);
  return t.contiguous();
}

// Every code of a CPU tensor valid for its format.
void check_codes(const Tensor& codes, CodeFormat f, const char* op, const char* arg) {
  if (!codes.device().is_cpu()) return;  // trusted (see multibit.h)
  int64_t bad = cpu::first_invalid_code(codes.data<int8_t>(), codes.numel(), f.kind, f.bits);
  LOWBIT_CHECK(bad < 0, op, ": ", arg, " holds code ", bad < 0 ? 0 : int{codes.data<int8_t>()[bad]}, " at element ",
               bad, ", which is not a ", code_format_str(f), " code (valid: ", code_min(f.kind, f.bits), "..",
               code_max(f.kind, f.bits), f.kind == CodeKind::binary ? " without 0" : "", ")");
}

// K·max|a|·max|b| must stay within int32 for every path's exact accumulation.
void check_int32_range(int64_t K, CodeFormat fa, CodeFormat fb, const char* op) {
  const int64_t bound = K * value_max_abs(fa.kind, fa.bits) * value_max_abs(fb.kind, fb.bits);
  LOWBIT_CHECK(bound <= std::numeric_limits<int32_t>::max(), op, ": K = ", K, " with ", code_format_str(fa), " × ",
               code_format_str(fb), " codes could reach |sum| = ", bound, ", past the int32 accumulator (2^31 − 1)");
}

// Operand as int8 values: the codes themselves except for pow2, whose values differ.
Tensor int8_values_cpu(const Tensor& codes, CodeFormat f) {
  if (f.kind != CodeKind::pow2) return codes;
  Tensor v = Tensor::empty(codes.shape(), DType::i8);
  cpu::codes_to_int8(codes.data<int8_t>(), codes.size(0), codes.size(1), f.kind, v.data<int8_t>(), codes.size(1));
  return v;
}

struct PackedPlanes {
  std::vector<uint32_t> planes;
  std::vector<int32_t> popc;
  cpu::PlaneOperand operand() const { return {planes.data(), popc.data(), kind, bits}; }
  CodeKind kind;
  int bits;
};

PackedPlanes pack_planes(const Tensor& codes, CodeFormat f) {
  const int64_t rows = codes.size(0), k = codes.size(1), P = plane_count(f.kind, f.bits);
  PackedPlanes p{std::vector<uint32_t>(static_cast<size_t>(rows * P * packed_words(k))),
                 std::vector<int32_t>(static_cast<size_t>(rows * P)), f.kind, f.bits};
  cpu::pack_code_planes(codes.data<int8_t>(), rows, k, f.kind, f.bits, p.planes.data(), p.popc.data());
  return p;
}

void matmul_cpu(const Tensor& a, CodeFormat fa, const Tensor& b, CodeFormat fb, MultibitPath path, int threads,
                Tensor& out) {
  const int64_t M = a.size(0), N = b.size(0), K = a.size(1);
  int32_t* c = out.data<int32_t>();
  switch (path) {
    case MultibitPath::bitserial: {
      PackedPlanes pa = pack_planes(a, fa), pb = pack_planes(b, fb);
      cpu::bitserial_gemm(M, N, K, pa.operand(), pb.operand(), c, N, {cpu::XnorPath::automatic, threads});
      break;
    }
    case MultibitPath::shift: {
      Tensor av = int8_values_cpu(a, fa);
      cpu::shift_gemm(M, N, K, av.data<int8_t>(), K, b.data<int8_t>(), K, c, N, {cpu::MultibitSimd::automatic, threads});
      break;
    }
    case MultibitPath::int8: {
      Tensor av = int8_values_cpu(a, fa), bv = int8_values_cpu(b, fb);
      cpu::int8_gemm(M, N, K, av.data<int8_t>(), K, bv.data<int8_t>(), K, c, N, {cpu::MultibitSimd::automatic, threads});
      break;
    }
    case MultibitPath::automatic: LOWBIT_FAIL("multibit_matmul: unresolved path");
  }
}

#if LOWBIT_WITH_CUDA
constexpr int64_t kCudaInt8Align = 16;  // K padding of the cuBLAS int8 path

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

void matmul_cuda(const Tensor& a, CodeFormat fa, const Tensor& b, CodeFormat fb, MultibitPath path, Tensor& out) {
  const int64_t M = a.size(0), N = b.size(0), K = a.size(1);
  int32_t* c = out.data<int32_t>();
  switch (path) {
    case MultibitPath::bitserial:
      cuda::bitserial_gemm(M, N, K, a.data<int8_t>(), K, fa.kind, fa.bits, b.data<int8_t>(), K, fb.kind, fb.bits, c, N);
      break;
    case MultibitPath::shift: {
      Tensor av = a;
      if (fa.kind == CodeKind::pow2) {
        av = Tensor::empty(a.shape(), DType::i8, a.device());
        cuda::codes_to_int8(a.data<int8_t>(), M, K, fa.kind, av.data<int8_t>(), K);
      }
      cuda::shift_gemm(M, N, K, av.data<int8_t>(), K, b.data<int8_t>(), K, c, N);
      break;
    }
    case MultibitPath::int8: {
      const int64_t kp = round_up(K, kCudaInt8Align);
      Tensor ap = Tensor::empty({M, kp}, DType::i8, a.device()), bp = Tensor::empty({N, kp}, DType::i8, a.device());
      cuda::codes_to_int8(a.data<int8_t>(), M, K, fa.kind, ap.data<int8_t>(), kp);
      cuda::codes_to_int8(b.data<int8_t>(), N, K, fb.kind, bp.data<int8_t>(), kp);
      cuda::int8_gemm(M, N, kp, ap.data<int8_t>(), kp, bp.data<int8_t>(), kp, c, N);
      break;
    }
    case MultibitPath::automatic: LOWBIT_FAIL("multibit_matmul: unresolved path");
  }
}
#endif

// 1 or rows positive scale entries (CPU f32); returns whether they are per row.
bool check_scale(const Tensor& scale, int64_t rows, const char* op) {
  check_dtype(scale, DType::f32, op, "scale");
  LOWBIT_CHECK(scale.device().is_cpu(), op, ": scale must be a CPU tensor");
  LOWBIT_CHECK(scale.numel() == 1 || scale.numel() == rows, op, ": scale has ", scale.numel(),
               " elements; want 1 (per tensor) or ", rows, " (one per row of the leading axis)");
  std::vector<float> s = scale.to_vector();
  for (size_t i = 0; i < s.size(); ++i)
    LOWBIT_CHECK(std::isfinite(s[i]) && s[i] > 0.f, op, ": scale[", i, "] = ", s[i], " must be finite and > 0");
  return scale.numel() != 1;
}

}  // namespace

std::string code_format_str(CodeFormat f) {
  switch (f.kind) {
    case CodeKind::unsigned_int: return detail::cat("u", f.bits);
    case CodeKind::signed_int: return detail::cat("s", f.bits);
    case CodeKind::binary: return f.bits == 1 ? std::string("binary") : detail::cat("binary(", f.bits, " bits)");
    case CodeKind::ternary: return f.bits == 2 ? std::string("ternary") : detail::cat("ternary(", f.bits, " bits)");
    case CodeKind::pow2: return detail::cat("pow2(", f.bits, ")");
  }
  return "unknown";
}

void check_code_format(CodeFormat f, const char* what) {
  LOWBIT_CHECK(code_format_ok(f.kind, f.bits), what, ": unsupported code format ", code_format_str(f),
               " (unsigned 1..7 bits, signed 2..8, binary 1, ternary 2, pow2 2..4)");
}

float pow2_unit(int bits) {
  LOWBIT_CHECK(code_format_ok(CodeKind::pow2, bits), "pow2_unit: pow2 codes have 2..4 bits, got ", bits);
  return std::ldexp(1.f, 1 - pow2_levels(bits));
}

const char* multibit_path_name(MultibitPath path) {
  switch (path) {
    case MultibitPath::automatic: return "automatic";
    case MultibitPath::bitserial: return "bitserial";
    case MultibitPath::shift: return "shift";
    case MultibitPath::int8: return "int8";
  }
  return "unknown";
}

MultibitPath multibit_auto_path(CodeFormat a, CodeFormat b, Device device) {
  if (device.is_cuda()) return MultibitPath::int8;
  return plane_count(a.kind, a.bits) * plane_count(b.kind, b.bits) <= kBitserialMaxPlanePairs ? MultibitPath::bitserial
                                                                                                : MultibitPath::int8;
}

Tensor multibit_encode(const Tensor& x, CodeFormat f, const Tensor& scale) {
  check_code_format(f, "multibit_encode");
  check_dtype(x, DType::f32, "multibit_encode", "x");
  LOWBIT_CHECK(x.device().is_cpu(), "multibit_encode: x must be a CPU tensor (codes are made on the host)");
  LOWBIT_CHECK(x.dim() >= 1, "multibit_encode: x must have a leading (row) axis");
  Tensor xc = x.contiguous();
  const int64_t rows = x.size(0), k = rows ? x.numel() / rows : 0;
  const bool per_row = check_scale(scale, rows, "multibit_encode");
  Tensor codes = Tensor::empty(x.shape(), DType::i8);
  std::vector<float> s = scale.to_vector();
  int64_t bad = cpu::encode_codes(xc.data<float>(), rows, k, f.kind, f.bits, s.data(), per_row, codes.data<int8_t>());
  LOWBIT_CHECK(bad < 0, "multibit_encode: element ", bad, " = ", bad < 0 ? 0.f : xc.data<float>()[bad],
               " is not scale · a ", code_format_str(f), " value (scale ", s[per_row && bad >= 0 ? bad / k : 0], ")");
  return codes;
}

Tensor multibit_decode(const Tensor& codes, CodeFormat f, const Tensor& scale) {
  check_code_format(f, "multibit_decode");
  check_dtype(codes, DType::i8, "multibit_decode", "codes");
  LOWBIT_CHECK(codes.device().is_cpu(), "multibit_decode: codes must be a CPU tensor");
  LOWBIT_CHECK(codes.dim() >= 1, "multibit_decode: codes must have a leading (row) axis");
  Tensor cc = codes.contiguous();
  check_codes(cc, f, "multibit_decode", "codes");
  const int64_t rows = codes.size(0), k = rows ? codes.numel() / rows : 0;
  const bool per_row = check_scale(scale, rows, "multibit_decode");
  Tensor x = Tensor::empty(codes.shape(), DType::f32);
  std::vector<float> s = scale.to_vector();
  cpu::decode_codes(cc.data<int8_t>(), rows, k, f.kind, s.data(), per_row, x.data<float>());
  return x;
}

Tensor multibit_matmul(const Tensor& a_in, CodeFormat fa, const Tensor& b_in, CodeFormat fb,
                       const MultibitOptions& options) {
  const char* op = "multibit_matmul";
  check_code_format(fa, "multibit_matmul (a)");
  check_code_format(fb, "multibit_matmul (b)");
  Tensor a = matrix_operand(a_in, DType::i8, op, "a [M,K] codes");
  Tensor b = matrix_operand(b_in, DType::i8, op, "b [N,K] codes");
  check_same_device(a, b, op);
  LOWBIT_CHECK(a.size(1) == b.size(1), op, ": a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
               " must have the same K (b is [N,K])");
  const int64_t M = a.size(0), N = b.size(0), K = a.size(1);
  check_int32_range(K, fa, fb, op);
  const MultibitPath path =
      options.path == MultibitPath::automatic ? multibit_auto_path(fa, fb, a.device()) : options.path;
  LOWBIT_CHECK(path != MultibitPath::shift || is_sign_exponent(fb.kind), op,
               ": the shift path needs sign + exponent codes (binary, ternary, pow2) in b, got ", code_format_str(fb));
  check_codes(a, fa, op, "a");
  check_codes(b, fb, op, "b");
  Tensor out = Tensor::empty({M, N}, DType::i32, a.device());
  switch (a.device().type) {
    case DeviceType::CPU: matmul_cpu(a, fa, b, fb, path, options.threads, out); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      matmul_cuda(a, fa, b, fb, path, out);
#else
      cuda_missing(op);
#endif
      break;
  }
  return out;
}

Tensor multibit_conv2d(const Tensor& x_in, CodeFormat fx, const Tensor& w_in, CodeFormat fw, int64_t stride,
                       int64_t pad, const MultibitOptions& options) {
  const char* op = "multibit_conv2d";
  check_code_format(fx, "multibit_conv2d (x)");
  check_code_format(fw, "multibit_conv2d (weight)");
  check_dtype(x_in, DType::i8, op, "x");
  check_dtype(w_in, DType::i8, op, "weight");
  check_rank(x_in, 4, op, "x [N,H,W,C]");
  check_rank(w_in, 4, op, "weight [O,KH,KW,C]");
  check_same_device(x_in, w_in, op);
  const Shape &sx = x_in.shape(), &sw = w_in.shape();
  LOWBIT_CHECK(stride >= 1 && pad >= 0, op, ": stride must be >= 1 and padding >= 0, got stride ", stride,
               " and padding ", pad);
  LOWBIT_CHECK(sw[3] == sx[3], op, ": weight ", shape_str(sw), " has ", sw[3], " input channels, x ", shape_str(sx),
               " has ", sx[3]);
  LOWBIT_CHECK(sw[1] >= 1 && sw[2] >= 1, op, ": empty kernel in weight ", shape_str(sw));
  LOWBIT_CHECK(sx[1] + 2 * pad >= sw[1] && sx[2] + 2 * pad >= sw[2], op, ": kernel ", sw[1], "x", sw[2],
               " does not fit x ", shape_str(sx), " with padding ", pad, ": the output would be empty");
  const MultibitConvGeom g{sx[0], sx[1], sx[2], sx[3], sw[0], sw[1], sw[2], window_out_size(sx[1], sw[1], stride, pad),
                           window_out_size(sx[2], sw[2], stride, pad), stride, pad};
  Tensor x = x_in.contiguous(), w = w_in.contiguous();
  check_codes(x, fx, op, "x");  // before the padding zeros join them
  const CodeFormat fcol = fx.kind == CodeKind::binary ? CodeFormat::ternary() : fx;
  Tensor col = Tensor::empty({g.N * g.OH * g.OW, g.KH * g.KW * g.C}, DType::i8, x.device());
  switch (x.device().type) {
    case DeviceType::CPU: cpu::im2col_codes(x.data<int8_t>(), g, col.data<int8_t>()); break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::im2col_codes(x.data<int8_t>(), g, col.data<int8_t>());
#else
      cuda_missing(op);
#endif
      break;
  }
  return multibit_matmul(col, fcol, w.view({g.O, g.KH * g.KW * g.C}), fw, options).view({g.N, g.OH, g.OW, g.O});
}

Tensor multibit_adder_matmul(const Tensor& a_in, const Tensor& b_in, CodeFormat fb, const MultibitOptions& options) {
  const char* op = "multibit_adder_matmul";
  check_code_format(fb, "multibit_adder_matmul (b)");
  LOWBIT_CHECK(is_sign_exponent(fb.kind), op, ": b must hold sign + exponent codes (binary, ternary, pow2), got ",
               code_format_str(fb));
  const bool cuda = a_in.device().is_cuda();
  Tensor a = matrix_operand(a_in, cuda ? DType::f16 : DType::f32, op, cuda ? "a [M,K] (f16 on CUDA)" : "a [M,K] (f32 on the CPU)");
  Tensor b = matrix_operand(b_in, DType::i8, op, "b [N,K] codes");
  check_same_device(a, b, op);
  LOWBIT_CHECK(a.size(1) == b.size(1), op, ": a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
               " must have the same K (b is [N,K])");
  check_codes(b, fb, op, "b");
  const int64_t M = a.size(0), N = b.size(0), K = a.size(1);
  Tensor out = Tensor::empty({M, N}, DType::f32, a.device());
  switch (a.device().type) {
    case DeviceType::CPU:
      cpu::adder_gemm(M, N, K, a.data<float>(), K, b.data<int8_t>(), K, out.data<float>(), N,
                      {cpu::MultibitSimd::automatic, options.threads});
      break;
    case DeviceType::CUDA:
#if LOWBIT_WITH_CUDA
      cuda::adder_gemm(M, N, K, a.data<uint16_t>(), K, b.data<int8_t>(), K, out.data<float>(), N);
#else
      cuda_missing(op);
#endif
      break;
  }
  return out;
}

}  // namespace lowbit
