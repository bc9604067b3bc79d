// The deploy graph: the op list a .lbm file holds (tools/deploy/format.h), export builds from a
// trained model (export.h) and the runtime runs (runtime.h). Every op reads the previous op's
// output (a batch of one dtype and shape) and writes one:
//   op                 input -> output           tensors (roles)               attributes
//   conv2d             f32 [H,W,C] -> f32        weight f32 [O,KH,KW,C], bias? stride, padding
//   linear             f32 [F] -> f32 [O]        weight f32 [O,F], bias?
//   batch_norm         f32 [...,C] -> f32        mean, var f32 [C], weight?, bias? eps
//   hardtanh, relu     f32 -> f32                                               lo, hi (hardtanh)
//   max_pool2d         f32 [H,W,C] -> f32                                       kernel, stride, padding
//   flatten            any [H,W,C] -> [H·W·C]
//   sign               f32 -> b1 (x < 0 -> -1, else +1: the binary layers' sign quantizer)
//   xnor_conv2d        b1 [H,W,C] -> epilogue's  weight b1 [O,KH,KW,C] + the epilogue's    stride, padding, epilogue
//   xnor_linear        b1 [F] -> epilogue's      weight b1 [O,F] + the epilogue's          epilogue
//   binary_max_pool2d  b1 [H,W,C] -> b1                                         kernel, stride, padding
//   int_max_pool2d     i32 [H,W,C] -> i32 (sums pooled before their batch norm) kernel, stride, padding
//   epilogue           i32 [...,C] -> f32 / b1   the epilogue's                                epilogue
//   quantize           f32 -> i8 codes           the method's (act_quant.h)                method, bits, delta (aqe)
//   multibit_conv2d    i8 [H,W,C] -> f32         weight i8 [O,KH,KW,C], scale, bias?       stride, padding, formats
//   multibit_linear    i8 [F] -> f32 [O]         weight i8 [O,F], scale, bias?             formats
// (formats: input_format and weight_format, CodeFormat.)
// quantize is an activation quantizer's eval forward followed by its levels' integer codes (format
// and step from the method: tools/deploy/act_quant.h); the multi-bit layers take codes of
// input_format (core/ops/multibit.h) and their weight codes, sum exactly in int32 and apply the
// affine epilogue scale[c]·s + bias[c] (scale = input step · weight step of channel c · |α|).
// Epilogues (core/ops/binary.h XnorEpilogue): none -> i32; affine (scale, bias? f32 [O]) -> f32;
// threshold (threshold i32 [O], mode u8 [O]) -> b1. The graph's input is the f32 image
// [height, width, channels], its output f32 [classes] (logits). Shapes here exclude the batch axis.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/ops/binary.h"
#include "core/ops/multibit.h"
#include "core/tensor.h"

namespace lowbit::deploy {

enum class OpKind : uint8_t {
  conv2d,
  linear,
  batch_norm,
  hardtanh,
  relu,
  max_pool2d,
  flatten,
  sign,
  xnor_conv2d,
  xnor_linear,
  binary_max_pool2d,
  int_max_pool2d,
  epilogue,
  quantize,
  multibit_conv2d,
  multibit_linear,
};

const char* op_kind_name(OpKind kind);
// Throws "<where>: unknown op 'x'" for a name that is not an op.
OpKind op_kind_from_name(const std::string& name, const std::string& where);
const char* epilogue_kind_name(XnorEpilogue::Kind kind);  // "none", "affine", "threshold"
XnorEpilogue::Kind epilogue_kind_from_name(const std::string& name, const std::string& where);

struct Op {
  Op() = default;
  Op(OpKind k, std::string n) : kind(k), name(std::move(n)) {}

  OpKind kind = OpKind::relu;
  std::string name;                       // the layer of the trained model it came from
  std::map<std::string, Tensor> tensors;  // by role (see the table above)
  int64_t kernel = 0, stride = 1, padding = 0;
  float lo = -1.f, hi = 1.f;  // hardtanh
  float eps = 1e-5f;          // batch_norm
  XnorEpilogue::Kind epilogue = XnorEpilogue::Kind::none;
  std::string method;  // quantize: the activation quantizer ("ewgs", "lsq", ...)
  int bits = 0;        // quantize
  float delta = 0.5f;  // quantize with method aqe at 2 bits: the ternary threshold
  CodeFormat input_format, weight_format;  // multibit_conv2d, multibit_linear

  // The tensor of that role, or an undefined tensor.
  Tensor tensor(const std::string& role) const;
  // The epilogue of an xnor/epilogue op, with its tensors.
  XnorEpilogue xnor_epilogue() const;
};

struct Graph {
  std::string model;    // the zoo model it was exported from
  std::string dataset;  // the data it was trained on
  int64_t channels = 0, height = 0, width = 0, classes = 0;
  nlohmann::json source = nlohmann::json::object();  // where it came from (checkpoint, epoch, quantizer)
  std::vector<Op> ops;
};

// An op's output for one example: dtype and shape without the batch axis.
struct ValueType {
  ValueType() = default;
  ValueType(DType d, Shape s, CodeFormat f = {}) : dtype(d), shape(std::move(s)), format(f) {}
  DType dtype = DType::f32;
  Shape shape;
  CodeFormat format;  // the codes' format when dtype is i8 (quantize's output)
};

// "u2", "s3", "binary", "ternary", "pow2(3)" (code_format_str) -> the format; throws naming `where`.
CodeFormat code_format_from_name(const std::string& name, const std::string& where);

// Follows the graph from its input to its output, checking every op's input, tensors (presence,
// dtype, shape) and attributes. Throws lowbit::Error "<where>: op 3 'conv2' (xnor_conv2d): ..."
// for the first problem; the output must be f32 [classes].
void check_graph(const Graph& graph, const std::string& where);

// Human summary, one line per op: "  3 xnor_conv2d  conv2  b1 [14,14,32] -> b1 [14,14,64]"
// (multi-bit ops add their formats: "multibit_conv2d (u2 x s3)", "quantize (ewgs u2)").
std::string graph_summary(const Graph& graph);

}  // namespace lowbit::deploy
